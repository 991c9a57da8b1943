import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { freePort, usePg } from '../../proxy/test/pg-server';
import { call, startApp, ROOT, type RunningApp } from './harness';

const APP = path.join(__dirname, 'fixtures/once-app.cjs');
const BIN = path.join(ROOT, 'dist/bin/beehive.js');
const server = usePg();
const token = 'control-token-0123456789abcdef';

/** `beehive proxy` in its own process, so that it can be killed. Resolves once it listens. */
async function startProxyProcess(port: number, controlPort: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'proxy', '--listen', `127.0.0.1:${port}`, '--upstream', server.get().url, '--max-backends', '12', '--control', `127.0.0.1:${controlPort}`, '--control-token', token],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      out += c;
      if (out.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`proxy exited ${code}`)));
  });
  return child;
}

describe('the proxy killed and restarted under load', () => {
  let app: RunningApp;
  let proxy: ChildProcess;
  let db: pg.Client;
  let port: number;
  let controlPort: number;
  beforeAll(async () => {
    db = new pg.Client({ connectionString: server.get().url });
    await db.connect();
    await db.query('CREATE TABLE once (id text NOT NULL, via text NOT NULL, at text NOT NULL)');
    port = await freePort();
    controlPort = await freePort();
    proxy = await startProxyProcess(port, controlPort);
    app = await startApp(APP, {
      BEEHIVE_MODE: 'always',
      BEEHIVE_WORKERS: '4',
      DATABASE_URL: `postgres://${server.get().user}:${server.get().password}@127.0.0.1:${port}/postgres`,
      BEEHIVE_PROXY_URL: `postgres://127.0.0.1:${port}/postgres`,
      BEEHIVE_PROXY_CONTROL: `http://127.0.0.1:${controlPort}`,
      BEEHIVE_PROXY_CONTROL_TOKEN: token,
    });
  }, 60_000);
  afterAll(async () => {
    await app?.stop().catch(() => {});
    proxy?.kill('SIGKILL');
    await db?.end();
  });

  it('in-flight requests each get exactly one answer and write at most once; the app stays up; later requests work again', async () => {
    const answers = new Map<string, number[]>();
    let started = 0;
    let killedAt = -1;
    let restarted: Promise<void> | null = null;
    const one = async (route: string, id: string) => {
      const r = await call(app.url, 'POST', `${route}/${id}`, {}).then(
        (x) => x.status,
        () => -1, // no answer at all: counted, and must not happen
      );
      answers.set(id, [...(answers.get(id) ?? []), r]);
    };
    // 8 in flight through a pool and the shared client; the proxy is SIGKILLed after the 40th answer.
    const N = 120;
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, lane) => {
        while (next < N) {
          const i = next++;
          started++;
          await one(lane % 2 ? '/client-only' : '/pool-only', `r-${i}`);
          if (answers.size >= 40 && killedAt < 0) {
            killedAt = answers.size;
            const exited = new Promise((r) => proxy.once('exit', r));
            proxy.kill('SIGKILL');
            restarted = exited.then(async () => {
              proxy = await startProxyProcess(port, controlPort);
            });
          }
        }
      }),
    );
    await restarted;
    expect(started).toBe(N);
    expect(killedAt).toBeGreaterThan(0);
    // Exactly one answer per request, every one an HTTP answer (2xx, or the app's own 500 while its database was gone).
    expect([...answers.values()].filter((a) => a.length !== 1 || a[0] < 200)).toEqual([]);
    const { rows } = await db.query<{ id: string; n: number }>("SELECT id, count(*)::int AS n FROM once WHERE id LIKE 'r-%' GROUP BY id");
    expect(rows.filter((r) => r.n > 1)).toEqual([]);
    expect(app.child.exitCode).toBeNull();

    // After the restart, requests through the pool work again and write exactly once. (The app's
    // shared pg.Client died with the proxy, as it would have without BeeHive.)
    const after = Array.from({ length: 24 }, (_, i) => `a-${i}`);
    const statuses = await Promise.all(after.map((id) => call(app.url, 'POST', `/pool-only/${id}`, {}).then((r) => r.status)));
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    const again = await db.query<{ id: string; n: number }>("SELECT id, count(*)::int AS n FROM once WHERE id LIKE 'a-%' GROUP BY id");
    expect(again.rows).toHaveLength(after.length);
    expect(again.rows.filter((r) => r.n !== 1)).toEqual([]);
    expect(app.child.exitCode).toBeNull();
    expect(app.stderr()).not.toMatch(/Unhandled|uncaught/i);
  }, 120_000);
});
