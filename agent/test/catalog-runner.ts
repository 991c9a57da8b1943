import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApp, type Reply, type RunningApp } from './harness';

export type Req = [method: string, path: string, body?: unknown, headers?: Record<string, string>];
/**
 * What a case's handlers must do: `true` offloaded (every request's response committed from a
 * worker), a RegExp refused with a reason matching it, 'falls back' tried on a worker that
 * refused a value only when it was fetched, then run locally; 'verified' a run ending in an error,
 * discarded on the worker and run here.
 */
export type Expect = true | RegExp | 'falls back' | 'verified';
export type Case = [name: string, requests: Req[], expected: Expect];

/**
 * Runs a catalog of cases against a fixture app started twice — the agent off, and every handler
 * offloaded — in the same order: each request must get the same response from both, the state
 * dump (`GET /__state`, a middleware, so never offloaded) must be the same after each case, and
 * the offloading app's stats must show each handler offloaded or refused as the case says.
 */
export function runCatalog(title: string, app: string, cases: Case[], env: Record<string, string> = {}): void {
  describe(title, () => {
    let local: RunningApp;
    let remote: RunningApp;
    beforeAll(async () => {
      [local, remote] = await Promise.all([
        startApp(app, { BEEHIVE_MODE: 'off', ...env }),
        startApp(app, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '1', BEEHIVE_CLOSURE_BUDGET: '65536', ...env }),
      ]);
    });
    let stats: Record<string, any> | undefined;
    afterAll(async () => {
      await local?.stop();
      stats ??= await remote?.stop();
    });

    for (const [name, reqs] of cases) {
      it(name, async () => {
        await expectSameReplies(local, remote, reqs);
        const sa = await call(local.url, 'GET', '/__state');
        const sb = await call(remote.url, 'GET', '/__state');
        expect(sb.body).toEqual(sa.body);
      });
    }

    it('offloaded each handler or refused it for the expected reason', async () => {
      stats = await remote.stop();
      const handlers: any[] = stats.handlers;
      const problems: unknown[] = [];
      for (const [name, reqs, expected] of cases) {
        for (const [method, p] of reqs) {
          const h = handlers.find((x) => matches(x.route, p.split('?')[0]) && x.method === method);
          if (!h) {
            problems.push({ name, route: p, missing: true });
            continue;
          }
          if (expected === 'verified') {
            if (h.offloaded > 0 || h.reexecuted === 0 || h.diverged > 0 || h.failures > 0) problems.push({ name, route: h.route, offloaded: h.offloaded, reexecuted: h.reexecuted, diverged: h.diverged });
          } else if (expected === 'falls back') {
            if (h.offloaded > 0 || h.failures === 0) problems.push({ name, route: h.route, offloaded: h.offloaded, failures: h.failures });
          } else if (expected === true) {
            if (h.reason || h.local > 0 || h.failures > 0 || h.offloaded === 0) problems.push({ name, route: h.route, reason: h.reason, local: h.local, failures: h.failures, offloaded: h.offloaded, error: h.lastError });
          } else if (!expected.test(h.reason ?? '') || h.offloaded > 0) problems.push({ name, route: h.route, expected: String(expected), reason: h.reason, offloaded: h.offloaded });
        }
      }
      expect(problems).toEqual([]);
    });
  });
}

/** Sends each request to the plain app, then to the offloading one: the second must answer exactly as the first. */
export async function expectSameReplies(local: RunningApp, remote: RunningApp, reqs: Req[]): Promise<void> {
  for (const [method, p, body, headers] of reqs) {
    const a: Reply = await call(local.url, method, p, body, headers);
    const b: Reply = await call(remote.url, method, p, body, headers);
    expect(b, `${method} ${p}`).toEqual(a);
  }
}

/** Whether an Express route pattern matches a concrete path. */
export function matches(route: string, p: string): boolean {
  const re = new RegExp(`^${route.replace(/:[^/]+/g, '[^/]+')}$`);
  return re.test(p);
}
