import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, startApp, type HandlerCounters, type RunningApp } from './harness';

// The Nest path under contention: the same read validation, hot-object locks and retries on
// workers as Express handlers (agent/test/serializable.test.ts), through a singleton service.
const APP = path.join(__dirname, 'fixtures/nest-contention-app.cjs');

interface State {
  views: number;
  agent: { handlers: HandlerCounters[] };
}

describe('a Nest controller bumping a service counter under contention (always offloaded, 8 workers)', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '8', BEEHIVE_SHADOW_RUNS: '0', BEEHIVE_ROUTES: 'GET /c/count' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it.each([
    [40, 40, 0.9],
    [160, 16, 0.9],
  ])('%i requests, %i in flight: a permutation of 1..N, the counter ends at N, mostly committed from workers', async (N, inFlight, share) => {
    const s0 = await getJson<State>(`${app.url}/c/state`);
    const before = s0.agent.handlers.find((h) => h.id === 'GET /c/count')?.offloaded ?? 0;
    const replies: Array<{ v: number; where: string }> = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < N) {
          next++;
          replies.push(await getJson<{ v: number; where: string }>(`${app.url}/c/count?ms=8`));
        }
      }),
    );
    const values = replies.map((r) => r.v - s0.views).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    const s1 = await getJson<State>(`${app.url}/c/state`);
    expect(s1.views - s0.views).toBe(N);
    const h = s1.agent.handlers.find((x) => x.id === 'GET /c/count')!;
    const committed = h.offloaded - before;
    if (process.env.TEST_VERBOSE) console.log(N, inFlight, JSON.stringify({ committed, conflicts: h.conflicts, retried: h.retried, reexecuted: h.reexecuted, local: h.local }));
    expect(committed / N, JSON.stringify(h)).toBeGreaterThanOrEqual(share);
    expect(replies.filter((r) => r.where === 'worker').length).toBe(committed);
  });
});
