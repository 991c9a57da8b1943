import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../../proxy';
import { usePg } from '../../proxy/test/pg-server';
import { call, startApp, type RunningApp } from './harness';

const APP = path.join(__dirname, 'fixtures/once-app.cjs');
const server = usePg();
const token = 'control-token-0123456789abcdef';
const N = 120;

/** `n` POSTs to `route/<prefix>-<i>`, at most `inFlight` at a time; the statuses in order. */
async function drive(base: string, route: string, prefix: string, n: number, inFlight: number): Promise<number[]> {
  const statuses: number[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const i = next++;
        statuses[i] = (await call(base, 'POST', `${route}/${prefix}-${i}`, {})).status;
      }
    }),
  );
  return statuses;
}

describe('exactly once through the proxy: every request writes its row once, with 8 in flight', () => {
  let proxy: ProxyHandle;
  let app: RunningApp;
  let db: pg.Client;
  const markers = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-once-'));
  const rows = async (prefix: string) =>
    (await db.query<{ id: string; n: number; at: string }>("SELECT id, count(*)::int AS n, min(at) AS at FROM once WHERE id LIKE $1 || '-%' GROUP BY id", [prefix])).rows;
  beforeAll(async () => {
    db = new pg.Client({ connectionString: server.get().url });
    await db.connect();
    // No unique key on purpose: a duplicate must be visible, not refused.
    await db.query('CREATE TABLE once (id text NOT NULL, via text NOT NULL, at text NOT NULL)');
    proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 12, control: { port: 0, token } });
    const url = `postgres://${server.get().user}:${server.get().password}@127.0.0.1:${proxy.address.port}/postgres`;
    app = await startApp(APP, {
      BEEHIVE_MODE: 'always',
      BEEHIVE_WORKERS: '4',
      DATABASE_URL: url,
      BEEHIVE_PROXY_URL: `postgres://127.0.0.1:${proxy.address.port}/postgres`,
      BEEHIVE_PROXY_CONTROL: proxy.controlUrl!,
      BEEHIVE_PROXY_CONTROL_TOKEN: token,
      MARKER_DIR: markers,
    });
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    await proxy?.close();
    await db?.end();
  });

  it(`a pg.Pool: ${N} requests, all 2xx, each row exactly once, the counter equal to the requests`, async () => {
    const before = (JSON.parse((await call(app.url, 'GET', '/__state')).body) as { count: number }).count;
    const statuses = await drive(app.url, '/pool', 'p', N, 8);
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    const r = await rows('p');
    expect(r).toHaveLength(N);
    expect(r.filter((x) => x.n !== 1)).toEqual([]);
    const state = JSON.parse((await call(app.url, 'GET', '/__state')).body) as { count: number; ids: string[] };
    expect(state.count - before).toBe(N);
    const mine = state.ids.filter((id) => id.startsWith('p-'));
    expect(new Set(mine).size).toBe(N);
    expect(mine).toHaveLength(N);
  });

  it(`one pg.Client shared by every request: ${N} requests, all 2xx, each row exactly once`, async () => {
    const statuses = await drive(app.url, '/client', 'c', N, 8);
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    const r = await rows('c');
    expect(r).toHaveLength(N);
    expect(r.filter((x) => x.n !== 1)).toEqual([]);
  });

  it(`no in-memory change (nothing conflicts): ${N} requests each through a pool and a shared client, every row once, written on workers`, async () => {
    const [a, b] = await Promise.all([drive(app.url, '/pool-only', 'q', N, 8), drive(app.url, '/client-only', 'd', N, 8)]);
    expect([...a, ...b].filter((s) => s !== 201)).toEqual([]);
    for (const prefix of ['q', 'd']) {
      const r = await rows(prefix);
      expect(r).toHaveLength(N);
      expect(r.filter((x) => x.n !== 1)).toEqual([]);
      expect(r.filter((x) => x.at === 'worker').length).toBeGreaterThan(0);
    }
  });

  it("a pool offload whose in-memory commit conflicts leaves no row of that attempt; its retry on a worker writes it once", async () => {
    const waiting = new Promise<void>((resolve) => {
      const w = fs.watch(markers, () => {
        w.close();
        resolve();
      });
    });
    await db.query('SELECT pg_advisory_lock(4242)');
    const pending = call(app.url, 'POST', '/pool-conflict/x-1', {});
    await waiting;
    await call(app.url, 'GET', '/__bump');
    await db.query('SELECT pg_advisory_unlock(4242)');
    const r = await pending;
    expect(JSON.parse(r.body)).toEqual({ where: 'worker' });
    expect(await rows('x')).toEqual([{ id: 'x-1', n: 1, at: 'worker' }]);
  });

  it("a worker that dies after writing through its pool leaves no row; the local re-run writes it once", async () => {
    const r = await call(app.url, 'POST', '/pool-crash/k-1', {});
    expect(JSON.parse(r.body)).toEqual({ where: 'server' });
    expect(await rows('k')).toEqual([{ id: 'k-1', n: 1, at: 'server' }]);
  });

  it('the app is alive and its handlers were offloaded', async () => {
    const stats = await app.stop();
    const by = Object.fromEntries(stats.handlers.map((h: { id: string }) => [h.id, h]));
    for (const id of ['POST /pool/:id', 'POST /client/:id', 'POST /pool-only/:id', 'POST /client-only/:id']) {
      expect({ id, reason: by[id].reason }).toEqual({ id, reason: undefined });
      expect(by[id].offloaded).toBeGreaterThan(0);
    }
    expect(by['POST /pool-conflict/:id']).toMatchObject({ offloaded: 1, local: 0, reexecuted: 0, conflicts: 1, retried: 1, conflictsByReason: { read: 1 } });
    expect(by['POST /pool-crash/:id']).toMatchObject({ offloaded: 0, local: 1, reexecuted: 1 });
  });
});
