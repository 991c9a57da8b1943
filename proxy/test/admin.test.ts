/**
 * The admin console (database `pgbouncer`) and the configuration file: SHOW POOLS/CLIENTS/SERVERS/
 * STATS/CONFIG, PAUSE/RESUME, RELOAD, and every bad input answered with a coded error while the
 * proxy keeps serving.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';

const server = usePg();
let proxy: ProxyHandle;
let dir: string;
let configFile: string;

const writeConfig = (o: Record<string, unknown>) => fs.writeFileSync(configFile, JSON.stringify(o));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-proxy-config-'));
  configFile = path.join(dir, 'proxy.json');
  // Clients log in to the server as themselves: the role the proxy's user 'app' logs in as, with
  // the password the reload below gives it.
  const db = new pg.Client({ connectionString: server.get().url });
  await db.connect();
  await db.query("CREATE ROLE app LOGIN PASSWORD 'new-pw'");
  await db.end();
  writeConfig({ upstream: server.get().url, maxBackends: 2, users: { postgres: 'secret-pw', app: 'app-pw' }, adminUsers: ['postgres'] });
  proxy = await startProxy({ configFile, listen: { port: 0 } });
});
afterAll(async () => {
  await proxy?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const client = (extra: Record<string, unknown> = {}) =>
  new pg.Client({ host: '127.0.0.1', port: proxy.address.port, user: 'postgres', password: 'secret-pw', database: 'postgres', ...extra });
const admin = async () => {
  const c = client({ database: 'pgbouncer' });
  await c.connect();
  return c;
};
const stillServes = async () => {
  const c = client();
  await c.connect();
  expect((await c.query('SELECT 40 + 2 AS n')).rows[0].n).toBe(42);
  await c.end();
};

describe('admin console', () => {
  it('SHOW POOLS, CLIENTS, SERVERS, STATS and CONFIG describe what runs', async () => {
    const app = client({ application_name: 'shown-app' });
    await app.connect();
    await app.query('BEGIN');
    const backendPid = (await app.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    const a = await admin();
    const pools = (await a.query('SHOW POOLS')).rows;
    const mine = pools.find((p) => JSON.parse(p.parameters).application_name === 'shown-app');
    expect(mine).toMatchObject({ database: 'postgres', user: 'postgres', cl_active: '1', sv_active: '1', pool_mode: 'transaction', paused: 'false' });
    const clients = (await a.query('SHOW CLIENTS')).rows;
    expect(clients.find((c) => c.application_name === 'shown-app')).toMatchObject({ state: 'active', server_pid: String(backendPid), pid: String((app as unknown as { processID: number }).processID) });
    expect(clients.filter((c) => c.kind === 'admin')).toHaveLength(1);
    const servers = (await a.query('SHOW SERVERS')).rows;
    expect(servers.find((s) => s.pid === String(backendPid))).toMatchObject({ state: 'active', tx_status: 'T' });
    const stats = (await a.query('SHOW STATS')).rows[0];
    expect(Number(stats.total_client_connections)).toBeGreaterThanOrEqual(2);
    const config = Object.fromEntries((await a.query('SHOW CONFIG')).rows.map((r) => [r.key, r.value]));
    expect(config).toMatchObject({ maxBackends: '2', poolMode: 'transaction', users: 'app,postgres', configFile });
    expect(JSON.stringify(config)).not.toContain('secret-pw');
    // Several commands in one query, lower case, with semicolons.
    const multi = (await a.query('show stats; show config;')) as unknown as pg.QueryResult[];
    expect(multi).toHaveLength(2);
    await app.query('COMMIT');
    await Promise.all([app.end(), a.end()]);
  });

  it('PAUSE waits for transactions under way, holds new work until RESUME', async () => {
    const busy = client();
    await busy.connect();
    await busy.query('BEGIN');
    await busy.query('SELECT 1');
    const a = await admin();
    let paused = false;
    const pause = a.query('PAUSE').then(() => (paused = true));
    // The transaction under way finishes; PAUSE answers once it has.
    await busy.query('SELECT 2');
    expect(paused).toBe(false);
    await busy.query('COMMIT');
    await pause;
    const waiting = busy.query('SELECT 3 AS n');
    const a2 = await admin();
    let seenWaiting = false;
    while (!seenWaiting) seenWaiting = (await a2.query('SHOW CLIENTS')).rows.some((c) => c.state === 'waiting');
    await a.query('RESUME');
    expect((await waiting).rows[0].n).toBe(3);
    await expect(a.query('RESUME')).rejects.toMatchObject({ code: '55000', message: expect.stringContaining('not paused') });
    await Promise.all([busy.end(), a.end(), a2.end()]);
  });

  it('bad input gets coded errors and the console and the proxy go on', async () => {
    const a = await admin();
    await expect(a.query('SHOW NONSENSE')).rejects.toMatchObject({ code: '42601', message: expect.stringContaining('unknown admin console command') });
    await expect(a.query('DROP TABLE x')).rejects.toMatchObject({ code: '42601' });
    // An error ends the rest of a multi-command query, as PostgreSQL does.
    await expect(a.query('SHOW STATS; BOGUS; SHOW CONFIG')).rejects.toMatchObject({ code: '42601' });
    // The extended protocol (a query with parameters) is refused, then the console answers again.
    await expect(a.query('SHOW STATS', [])).resolves.toBeTruthy(); // no parameters: pg sends a simple query
    await expect(a.query('SHOW $1', ['STATS'])).rejects.toMatchObject({ code: '0A000' });
    expect((await a.query('SHOW STATS')).rows).toHaveLength(1);
    await a.end();
    // Only admin users get in.
    const other = client({ user: 'app', password: 'app-pw', database: 'pgbouncer' });
    await expect(other.connect()).rejects.toMatchObject({ code: '28000', message: expect.stringContaining('may not use the admin console') });
    await stillServes();
  });
});

describe('configuration file', () => {
  it('RELOAD applies what can change now and names what needs a restart; a bad file changes nothing', async () => {
    const a = await admin();
    const notices: string[] = [];
    a.on('notice', (n) => notices.push(n.message));
    writeConfig({ upstream: server.get().url, maxBackends: 5, users: { postgres: 'secret-pw', app: 'new-pw' }, adminUsers: ['postgres'], poolMode: 'session' });
    await a.query('RELOAD');
    expect(notices.at(-1)).toMatch(/changed: maxBackends, users; kept until a restart: poolMode/);
    const config = Object.fromEntries((await a.query('SHOW CONFIG')).rows.map((r) => [r.key, r.value]));
    expect(config).toMatchObject({ maxBackends: '5', poolMode: 'transaction' });
    const app = client({ user: 'app', password: 'new-pw' });
    await app.connect();
    await app.end();

    const bad: Array<[string, string, RegExp]> = [
      ['{ not json', 'F0000', /not JSON/],
      [JSON.stringify({ upstream: server.get().url, maxBackends: -1 }), 'F0000', /maxBackends must be a positive integer/],
      [JSON.stringify({ upstream: server.get().url, maxBackend: 3 }), 'F0000', /unknown option "maxBackend"/],
      [JSON.stringify([1]), 'F0000', /must be a JSON object/],
    ];
    for (const [text, code, message] of bad) {
      fs.writeFileSync(configFile, text);
      await expect(a.query('RELOAD')).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    }
    fs.rmSync(configFile);
    await expect(a.query('RELOAD')).rejects.toMatchObject({ code: 'F0000', message: expect.stringContaining('cannot read the configuration file') });
    await expect(proxy.reload()).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_CONFIG_UNREADABLE' });
    expect(Object.fromEntries((await a.query('SHOW CONFIG')).rows.map((r) => [r.key, r.value])).maxBackends).toBe('5');
    await a.end();
    await stillServes();
    writeConfig({ upstream: server.get().url, maxBackends: 2, users: { postgres: 'secret-pw', app: 'app-pw' }, adminUsers: ['postgres'] });
    expect(await proxy.reload()).toEqual({ changed: ['maxBackends', 'users'], restartNeeded: [] });
  });

  it('a bad file at start is refused with a coded error; RELOAD without a file too', async () => {
    const badFile = path.join(dir, 'bad.json');
    fs.writeFileSync(badFile, JSON.stringify({ upstream: 'not a url' }));
    await expect(startProxy({ configFile: badFile, listen: { port: 0 } })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_CONFIG_INVALID', message: expect.stringContaining('postgres:// URL') });
    await expect(startProxy({ configFile: path.join(dir, 'missing.json'), listen: { port: 0 } })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_CONFIG_UNREADABLE' });
    const plain = await startProxy({ upstream: server.get().url, listen: { port: 0 } });
    try {
      await expect(plain.reload()).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_CONFIG_MISSING' });
      const a = new pg.Client({ host: '127.0.0.1', port: plain.address.port, user: 'postgres', password: 'secret-pw', database: 'pgbouncer' });
      await a.connect();
      await expect(a.query('RELOAD')).rejects.toMatchObject({ code: '55000' });
      await a.end();
    } finally {
      await plain.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('close({ drainMs }) with a bad value throws a RangeError and the proxy goes on', async () => {
    const p = await startProxy({ upstream: server.get().url, listen: { port: 0 } });
    await expect(p.close({ drainMs: -1 })).rejects.toThrow(RangeError);
    const c = new pg.Client({ host: '127.0.0.1', port: p.address.port, user: 'postgres', password: 'secret-pw', database: 'postgres' });
    await c.connect();
    expect((await c.query('SELECT 1 AS n')).rows[0].n).toBe(1);
    await c.end();
    await p.close();
  });

  it('close({ drainMs }) lets a transaction under way finish, closes idle clients at once, refuses new ones', async () => {
    const p = await startProxy({ upstream: server.get().url, listen: { port: 0 } });
    const mk = () => new pg.Client({ host: '127.0.0.1', port: p.address.port, user: 'postgres', password: 'secret-pw', database: 'postgres' });
    const busy = mk();
    const idle = mk();
    await Promise.all([busy.connect(), idle.connect()]);
    await idle.query('SELECT 1');
    await busy.query('CREATE TABLE IF NOT EXISTS drained (n int)');
    await busy.query('BEGIN');
    await busy.query('INSERT INTO drained VALUES (1)');
    // (pg reports the FATAL error, then the closed connection: both are listened to.)
    const ended = (c: pg.Client) => new Promise<Error & { code?: string }>((resolve) => c.on('error', resolve));
    const idleEnded = ended(idle);
    const busyEnded = ended(busy);
    const closing = p.close({ drainMs: 60_000 });
    expect((await idleEnded).code).toBe('57P01');
    // The transaction goes on and commits; then its client is closed too.
    await busy.query('INSERT INTO drained VALUES (2)');
    await busy.query('COMMIT');
    expect((await busyEnded).code).toBe('57P01');
    await closing;
    const check = new pg.Client(server.get().url);
    await check.connect();
    expect((await check.query('SELECT count(*)::int AS n FROM drained')).rows[0].n).toBe(2);
    await check.end();
    await Promise.all([busy.end().catch(() => {}), idle.end().catch(() => {})]);
  });
});
