import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApp, type RunningApp } from './harness';
import { buildNestFixture, type NestTarget } from './nest-build';

/**
 * A service method assigning a module-level `let` refuses only the routes that can run it: routes
 * reaching other methods of the same service (directly, through another of its methods, or through
 * another service) are offloaded and see the server's current value. Local and offloaded side by
 * side (BEEHIVE_MODE=off and always), at ES2022 and ES2021, same responses in the same order.
 */
const DIR = path.join(__dirname, 'fixtures/nest-let-reach');
const STEPS: Array<[string, string]> = [
  ['GET', '/c/read'], ['GET', '/c/describe'], ['GET', '/c/summary'],
  ['POST', '/c/bump'], ['GET', '/c/read'], ['GET', '/c/summary'],
  ['POST', '/c/bump-twice'], ['GET', '/c/describe'], ['GET', '/c/whole'], ['GET', '/c/read'],
];

for (const target of ['ES2022', 'ES2021'] as NestTarget[]) {
  describe(`a service's let assignment refuses only the routes that reach it (${target})`, () => {
    let entry: string;
    let local: RunningApp;
    let remote: RunningApp;
    beforeAll(async () => {
      entry = buildNestFixture(DIR, 'app.ts', target, 'nest-let-reach');
      [local, remote] = await Promise.all([startApp(entry, { BEEHIVE_MODE: 'off' }), startApp(entry, { BEEHIVE_MODE: 'always' })]);
    });
    afterAll(async () => {
      await local?.stop();
      await remote?.stop().catch(() => undefined);
    });

    it('same responses, and refusals only where the assignment can run', async () => {
      for (const [method, p] of STEPS) {
        const a = await call(local.url, method, p);
        const b = await call(remote.url, method, p);
        expect(b, `${method} ${p}`).toEqual(a);
      }
      const stats = await remote.stop();
      const by = Object.fromEntries(stats.handlers.map((h: { id: string }) => [h.id, h])) as Record<string, { reason?: string; offloaded: number; local: number; failures: number }>;
      const line = fs.readFileSync(entry, 'utf8').split('\n').findIndex((l) => /total \+= this\.step/.test(l)) + 1;
      for (const id of ['POST /c/bump', 'POST /c/bump-twice']) {
        expect(by[id].reason, id).toMatch(/assigns the captured variable 'total' in bump/);
        expect(by[id].reason, id).toContain(`app.js:${line})`);
        expect(by[id].offloaded, id).toBe(0);
      }
      // Takes the service whole: anything on it could run, so it stays refused.
      expect(by['GET /c/whole'].reason).toMatch(/'total'/);
      for (const id of ['GET /c/read', 'GET /c/describe']) {
        expect({ id, reason: by[id].reason, local: by[id].local, failures: by[id].failures }).toEqual({ id, reason: undefined, local: 0, failures: 0 });
        expect(by[id].offloaded, id).toBeGreaterThan(0);
      }
      // Through a second service: offloaded, the first run too (the controller's own `counter`
      // field, which the method does not name, travels as a remote reference; its fetch follows
      // the method's reach like the closure did).
      const s = by['GET /c/summary'];
      expect({ reason: s.reason, offloaded: s.offloaded, failures: s.failures }).toEqual({ reason: undefined, offloaded: 2, failures: 0 });
    });
  });
}
