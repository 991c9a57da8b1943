import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApp, type RunningApp } from './harness';

const APP = path.join(__dirname, 'fixtures/catalog-app.cjs');

describe('closure budget and refinement', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '1', BEEHIVE_CLOSURE_BUDGET: '8192' });
  });
  afterAll(async () => {
    await app?.stop();
  });
  const handler = async (id: string) => JSON.parse((await call(app.url, 'GET', '/__agent')).body).handlers.find((h: { id: string }) => h.id === id);

  it('objects beyond the budget are fetched on first touch, and shipped inline the next time', async () => {
    expect(JSON.parse((await call(app.url, 'GET', '/medium/250')).body)).toMatchObject({ id: 250, n: 251 });
    const first = await handler('GET /medium/:i');
    expect(first.offloaded).toBe(1);
    expect(first.fallbacks).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) await call(app.url, 'GET', '/medium/250');
    const later = await handler('GET /medium/:i');
    expect(later.offloaded).toBe(4);
    // After refinement the same request needs no fallback at all.
    expect(later.fallbacks).toBe(first.fallbacks);
    expect(later.closureBytes.p99).toBeGreaterThan(first.closureBytes.p50);
  });

  it('a large array is read in ranges instead: one small fetch per request, and the closure stays small', async () => {
    expect(JSON.parse((await call(app.url, 'GET', '/big/2500')).body)).toMatchObject({ id: 2500, n: 2501 });
    const first = await handler('GET /big/:i');
    for (let i = 0; i < 3; i++) expect(JSON.parse((await call(app.url, 'GET', '/big/2500')).body)).toMatchObject({ id: 2500, n: 2502 + i });
    const later = await handler('GET /big/:i');
    expect(later.offloaded).toBe(4);
    expect(later.fallbacks - first.fallbacks).toBe(3);
    expect(later.closureBytes.p99).toBeLessThan(8192);
  });
});
