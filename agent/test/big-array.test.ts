import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApp, type RunningApp } from './harness';

// Arrays far over the closure budget stay on the server; a worker reads them in ranges
// (FetchRange), or whole where only that is faithful. Each step runs on a local app and an
// offloaded one: same answers, same state after.
const APP = path.join(__dirname, 'fixtures/big-array-app.cjs');

const STEPS: Array<[string, string, unknown?]> = [
  ['GET', '/row/0'],
  ['GET', '/row/9337'],
  ['GET', '/row/11999'],
  ['GET', '/slice/1000/5000'],
  ['GET', '/slice/11990/100'],
  ['GET', '/sum'],
  ['GET', '/find/row 10001'],
  ['GET', '/find/nobody'],
  ['GET', '/beyond'],
  ['GET', '/sparse'],
  ['GET', '/named'],
  ['GET', '/twice'],
  ['POST', '/row/12/bump'],
  ['GET', '/row/12'],
  ['POST', '/push'],
  ['GET', '/beyond'],
  ['POST', '/relabel', { label: 'renamed' }],
  ['GET', '/twice'],
  // Once fetched whole (a push), the array is not refined into the next closure: still a reference.
  ['POST', '/push'],
  ['GET', '/row/12001'],
];

interface State {
  hash: string;
  n: number;
  v7: number;
  agent: { handlers: Array<{ id: string; offloaded: number; failures: number; local: number; reexecuted: number; conflicts: number; retried: number; closureBytes: { p99: number } }> };
}

describe('large module arrays read in ranges on workers', () => {
  let local: RunningApp;
  let remote: RunningApp;
  beforeAll(async () => {
    [local, remote] = await Promise.all([
      startApp(APP, { BEEHIVE_MODE: 'off' }),
      startApp(APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '4', BEEHIVE_SHADOW_RUNS: '0', NODE_DEBUG: 'beehive:channel' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([local?.stop(), remote?.stop()]);
  });

  it('answers every read and write as Node does locally, offloaded', async () => {
    for (const [m, p, body] of STEPS) {
      const t0 = performance.now();
      const [a, b] = await Promise.all([call(local.url, m, p, body), call(remote.url, m, p, body)]);
      if (process.env.TEST_VERBOSE) console.log(m, p, (performance.now() - t0).toFixed(0), 'ms');
      const strip = (s: string) => s.replace(/"where":"(server|worker)"/, '');
      expect(strip(b.body), `${m} ${p}`).toBe(strip(a.body));
      expect(b.status).toBe(a.status);
    }
    const [sa, sb] = await Promise.all([call(local.url, 'GET', '/__state'), call(remote.url, 'GET', '/__state')]);
    const [la, lb] = [JSON.parse(sa.body) as State, JSON.parse(sb.body) as State];
    expect(lb.hash).toBe(la.hash);
    for (const h of lb.agent.handlers.filter((x) => x.id !== 'GET /__state')) {
      expect(h.failures, h.id).toBe(0);
      expect(h.offloaded, h.id).toBeGreaterThan(0);
      expect(h.closureBytes.p99, h.id).toBeLessThan(64 * 1024);
      // One request at a time: nothing can conflict (a push after a range read once did, falsely).
      expect(h.conflicts, h.id).toBe(0);
    }
  });

  it('fetches the rows a handler reads, not the array', async () => {
    const before = remote.stderr().length;
    const r = JSON.parse((await call(remote.url, 'GET', '/row/7000')).body);
    expect(r).toMatchObject({ row: { id: 7000 }, where: 'worker' });
    // The app's stderr is another pipe than its HTTP answer: the log may come after the answer. A
    // second request's range line marks that everything the first one logged has arrived.
    await call(remote.url, 'GET', '/row/100');
    const all = await logUntil(remote, before, (l) => /\[9\d, 1\d\d\) of/.test(l));
    const log = all.slice(0, all.search(/range fetch of array \d+ \[9\d, 1\d\d\) of/));
    const ranges = [...log.matchAll(/range fetch of array \d+ \[(\d+), (\d+)\) of (\d+)/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3])]);
    expect(ranges.length).toBe(1);
    const [s, e] = ranges[0];
    expect(s).toBeLessThanOrEqual(7000);
    expect(e).toBeGreaterThan(7000);
    expect(e - s).toBeLessThanOrEqual(64);
    expect(log).not.toMatch(/fallback fetch of object \d+ \(array of 120\d\d\)/);
  });

  it('40 concurrent bumps of one row: a permutation, the row ends 40 higher, committed from workers', async () => {
    const s0 = JSON.parse((await call(remote.url, 'GET', '/__state')).body) as State;
    const replies = await Promise.all(Array.from({ length: 40 }, () => call(remote.url, 'POST', '/row/7/bump')));
    const vs = replies.map((r) => JSON.parse(r.body).v - s0.v7).sort((x, y) => x - y);
    expect(vs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const s1 = JSON.parse((await call(remote.url, 'GET', '/__state')).body) as State;
    expect(s1.v7 - s0.v7).toBe(40);
    const h = s1.agent.handlers.find((x) => x.id === 'POST /row/:i/bump')!;
    expect(h.failures).toBe(0);
  });
});

/** The app's stderr from `from` on, once `done` holds for it (waiting on its data events, 30 s at most). */
async function logUntil(app: RunningApp, from: number, done: (log: string) => boolean): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const log = app.stderr().slice(from);
    if (done(log)) return log;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`log never matched: ${log.slice(-800)}`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([once(app.child.stderr!, 'data'), new Promise((r) => (timer = setTimeout(r, left)))]);
    clearTimeout(timer);
  }
}
