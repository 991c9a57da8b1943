import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../../proxy';
import { usePg } from '../../proxy/test/pg-server';
import { call, startApp, type RunningApp } from './harness';

const APP = path.join(__dirname, 'fixtures/shadow-app.cjs');
const server = usePg();
const token = 'control-token-0123456789abcdef';

describe('shadow execution', () => {
  let proxy: ProxyHandle;
  let app: RunningApp;
  const state = async () => JSON.parse((await call(app.url, 'GET', '/__state')).body);
  const handler = (s: any, id: string) => s.agent.handlers.find((h: any) => h.id === id);

  beforeAll(async () => {
    const db = new pg.Client({ connectionString: server.get().url });
    await db.connect();
    await db.query('CREATE TABLE events (id serial PRIMARY KEY, kind text)');
    await db.end();
    proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 8, control: { port: 0, token } });
    app = await startApp(APP, {
      BEEHIVE_MODE: 'manual',
      BEEHIVE_RATIO: '1',
      BEEHIVE_ROUTES: 'POST /write,GET /noisy,GET /divergent',
      BEEHIVE_SHADOW_RUNS: '1000',
      BEEHIVE_WORKERS: '2',
      DATABASE_URL: `postgres://${server.get().user}:${server.get().password}@127.0.0.1:${proxy.address.port}/postgres`,
      BEEHIVE_PROXY_URL: `postgres://127.0.0.1:${proxy.address.port}/postgres`,
      BEEHIVE_PROXY_CONTROL: proxy.controlUrl!,
      BEEHIVE_PROXY_CONTROL_TOKEN: token,
    });
  });
  afterAll(async () => {
    await app?.stop();
    await proxy?.close();
  });

  it('a write handler shadowed 100 times leaves memory and database as the local runs alone leave them', async () => {
    let requests = 0;
    let s = await state();
    while ((handler(s, 'POST /write')?.shadow ?? 0) < 100 && requests < 400) {
      const before = handler(s, 'POST /write')?.shadow ?? 0;
      const r = JSON.parse((await call(app.url, 'POST', '/write', {})).body);
      requests++;
      expect(r.writes).toBe(requests);
      // The shadows ran before the local run; their bookkeeping ends right after the response.
      for (let i = 0; i < 50; i++) {
        s = await state();
        if (!handler(s, 'POST /write').shadowInFlight) break;
      }
      void before;
    }
    s = await state();
    const h = handler(s, 'POST /write');
    expect(h.shadow).toBeGreaterThanOrEqual(100);
    expect(h.failures).toBe(0);
    expect(h.phase).toBe('shadow');
    expect(h.offloaded).toBe(0);
    expect(s.counts.writes).toBe(requests);
    expect(s.cache).toBe(requests);
    expect(s.rows).toBe(requests);
  }, 300_000); // ~300 shadow invocations in sequence: minutes on a loaded 2-core machine, seconds alone

  it('noise (timestamps, random values) does not count as a mismatch; a divergent handler is held and reported', async () => {
    for (let i = 0; i < 30; i++) {
      await call(app.url, 'GET', '/noisy');
      await call(app.url, 'GET', '/divergent');
      let s = await state();
      while (handler(s, 'GET /noisy').shadowInFlight || handler(s, 'GET /divergent').shadowInFlight) s = await state();
      if (handler(s, 'GET /noisy').shadow >= 3 && handler(s, 'GET /divergent').phase === 'held') break;
    }
    const s = await state();
    const noisy = handler(s, 'GET /noisy');
    const div = handler(s, 'GET /divergent');
    expect(noisy.shadow).toBeGreaterThanOrEqual(3);
    expect(noisy.phase).toBe('shadow');
    expect(noisy.shadowDiff).toBeUndefined();
    expect(div.phase).toBe('held');
    expect(div.shadowDiff.paths.join()).toMatch(/script/);
    // Held: no more offloads or shadows for it.
    const before = div.shadow;
    await call(app.url, 'GET', '/divergent');
    expect(handler(await state(), 'GET /divergent')).toMatchObject({ shadow: before, offloaded: 0 });
  });
});
