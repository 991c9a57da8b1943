import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';

const server = usePg();
let proxy: ProxyHandle;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  proxy = await startProxy({
    upstream: server.get().url,
    listen: { port: 0 },
    tls: { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) },
  });
});
afterAll(async () => {
  await proxy?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('TLS towards clients', () => {
  it('upgrades on SSLRequest and still serves plain clients', async () => {
    const base = { host: '127.0.0.1', port: proxy.address.port, user: 'postgres', password: 'secret-pw', database: 'postgres' };
    const secure = new pg.Client({ ...base, ssl: { rejectUnauthorized: false } });
    await secure.connect();
    expect((secure as unknown as { connection: { stream: unknown } }).connection.stream).toBeInstanceOf(TLSSocket);
    expect((await secure.query('SELECT $1::text AS t', ['over tls'])).rows[0].t).toBe('over tls');
    await secure.end();
    const plain = new pg.Client(base);
    await plain.connect();
    expect((await plain.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await plain.end();
  });
});
