import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, startApp } from './harness';

describe('the channel over TLS', () => {
  it('workers reach the server over wss:// with a certificate they were told to trust', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-wss-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    const app = await startApp(path.join(__dirname, 'fixtures/mini.cjs'), {
      BEEHIVE_MODE: 'always',
      BEEHIVE_CHANNEL_TLS_CERT: cert,
      BEEHIVE_CHANNEL_TLS_KEY: key,
      BEEHIVE_CHANNEL_CA: cert,
      BEEHIVE_CLOSURE_BUDGET: '256',
    });
    for (let i = 1; i <= 3; i++) expect(JSON.parse((await call(app.url, 'GET', '/hit')).body)).toEqual({ hits: i });
    const stats = await app.stop();
    const hit = stats.handlers.find((h: { id: string }) => h.id === 'GET /hit');
    expect(hit).toMatchObject({ offloaded: 3, local: 0, failures: 0 });
    // The small budget made the worker fetch over the channel: TLS carried real traffic.
    expect(hit.fallbacks).toBeGreaterThan(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
