import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApp, type RunningApp } from './harness';

const APP = path.join(__dirname, 'fixtures/nest-shadow-app.cjs');

/**
 * Nest controller methods get shadow runs like Express handlers: the method runs here for real, two
 * workers run it as shadows, and their values, errors and `@Res({ passthrough: true })` headers are
 * compared with the local ones. Clean shadows make the method live; a mismatch holds it local.
 */
describe('Nest shadow runs', () => {
  let app: RunningApp;
  const state = async () => (await (await fetch(`http://127.0.0.1:${app.info.statePort}/`)).json()) as { n: number; agent: { handlers: any[] } };
  const handler = (s: { agent: { handlers: any[] } }, id: string) => s.agent.handlers.find((h) => h.id === id);
  const ROUTES = ['GET /s/same', 'GET /s/where', 'GET /s/missing', 'GET /s/header', 'GET /s/header-differs'];

  beforeAll(async () => {
    app = await startApp(APP, { BEEHIVE_MODE: 'manual', BEEHIVE_RATIO: '1', BEEHIVE_ROUTES: ROUTES.join(','), BEEHIVE_SHADOW_RUNS: '2', BEEHIVE_WORKERS: '2' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  /** Calls a route until its handler has `n` judged shadows (or is held), waiting for each to finish. */
  async function shadowed(p: string, id: string, n: number) {
    const replies = [];
    for (let i = 0; i < 10; i++) {
      replies.push(await call(app.url, 'GET', p));
      let s = await state();
      while (handler(s, id)?.shadowInFlight) s = await state();
      const h = handler(s, id);
      if (h.phase === 'held' || h.phase === 'live' || h.shadow >= n) return { h, replies, s };
    }
    throw new Error(`${id}: no verdict`);
  }

  it('a method whose value, error and headers match goes live; the local run answers and changes state once', async () => {
    const same = await shadowed('/s/same', 'GET /s/same', 2);
    expect(same.h).toMatchObject({ phase: 'live', shadow: 2 });
    expect(same.h.shadowDiff).toBeUndefined();
    // Each request ran once here; the shadows' increments were discarded.
    expect(same.replies.map((r) => JSON.parse(r.body).n)).toEqual([1, 2]);
    expect(same.s.n).toBe(2);

    const missing = await shadowed('/s/missing', 'GET /s/missing', 2);
    expect(missing.h).toMatchObject({ phase: 'live', shadow: 2 });
    expect(missing.replies[0].status).toBe(404);

    const header = await shadowed('/s/header', 'GET /s/header', 2);
    expect(header.h).toMatchObject({ phase: 'live', shadow: 2 });
    expect(header.replies[0].headers['x-one']).toBe('uno');
  });

  it('a method whose value or passthrough header differs on a worker is held local, with the path that differs', async () => {
    const where = await shadowed('/s/where', 'GET /s/where', 1);
    expect(where.h.phase).toBe('held');
    expect(where.h.shadowDiff.paths.join()).toMatch(/entry/);
    const hdr = await shadowed('/s/header-differs', 'GET /s/header-differs', 1);
    expect(hdr.h.phase).toBe('held');
    expect(JSON.stringify(hdr.h.shadowDiff.local)).toMatch(/x-two/);
    // Held: it runs here from now on, without shadows.
    const before = hdr.h.shadow;
    await call(app.url, 'GET', '/s/header-differs');
    expect(handler(await state(), 'GET /s/header-differs')).toMatchObject({ shadow: before, offloaded: 0 });
  });
});
