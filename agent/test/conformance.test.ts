import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runSuite, SUITE } from './conformance';

/**
 * Express's acceptance suite with the agent offloading every handler it can: the same tests pass as
 * without it, and nearly all handler runs really ran on workers. The suite lives beside the project
 * (../shared/conformance), not in it: where it is absent the test says so and is skipped.
 */
const present = fs.existsSync(SUITE);
if (!present) console.warn(`conformance: Express's acceptance suite not found at ${SUITE}; skipped`);

describe.skipIf(!present)("Express's acceptance suite, without and with the agent (always)", () => {
  for (const pkg of ['express', 'express4']) {
    it(`${pkg}: the same tests pass, and at least 90% of handler runs are offloaded (on Express 4: of the runs that did not end in an error)`, { timeout: 300_000 }, async () => {
      const r = await runSuite(pkg);
      const plainFailed = new Set(r.plain.failures.map((f) => f.title));
      const onlyWithAgent = r.agent.failures.filter((f) => !plainFailed.has(f.title));
      const share = r.offloaded / Math.max(1, r.offloaded + r.local);
      // Runs that ended in an error are never committed from a worker: they run again here to be
      // verified (agent/offload/6-verify.ts). On Express 4, examples written for Express 5's route syntax end
      // in errors, without the agent too.
      const verified = r.stats.handlers.reduce((n: number, h: { reexecuted?: number; diverged?: number }) => n + (h.reexecuted ?? 0) - (h.diverged ?? 0), 0);
      const shareOfClean = r.offloaded / Math.max(1, r.offloaded + r.local - verified);
      console.log(
        `conformance ${pkg}: plain ${r.plain.passes}/${r.plain.tests}, with the agent ${r.agent.passes}/${r.agent.tests}, ` +
          `offloaded ${r.offloaded}/${r.offloaded + r.local} (${(100 * share).toFixed(1)}%), ${verified} error runs verified locally ` +
          `(${(100 * shareOfClean).toFixed(1)}% of the others)` + r.localReasons.map((l) => `\n  ran locally: ${l}`).join(''),
      );
      expect(onlyWithAgent).toEqual([]);
      expect(r.agent.passes).toBe(r.plain.passes);
      expect(r.plain.passes).toBeGreaterThan(pkg === 'express' ? 100 : 50);
      if (pkg === 'express') expect(share).toBeGreaterThanOrEqual(0.9);
      expect(shareOfClean).toBeGreaterThanOrEqual(0.9);
      expect(r.stats.totals.diverged).toBe(0);
    });
  }
});
