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
    it(`${pkg}: the same tests pass, and at least 90% of handler runs are offloaded`, { timeout: 300_000 }, async () => {
      const r = await runSuite(pkg);
      const plainFailed = new Set(r.plain.failures.map((f) => f.title));
      const onlyWithAgent = r.agent.failures.filter((f) => !plainFailed.has(f.title));
      const share = r.offloaded / Math.max(1, r.offloaded + r.local);
      console.log(
        `conformance ${pkg}: plain ${r.plain.passes}/${r.plain.tests}, with the agent ${r.agent.passes}/${r.agent.tests}, ` +
          `offloaded ${r.offloaded}/${r.offloaded + r.local} (${(100 * share).toFixed(1)}%)` + r.localReasons.map((l) => `\n  ran locally: ${l}`).join(''),
      );
      expect(onlyWithAgent).toEqual([]);
      expect(r.agent.passes).toBe(r.plain.passes);
      expect(r.plain.passes).toBeGreaterThan(pkg === 'express' ? 100 : 50);
      expect(share).toBeGreaterThanOrEqual(0.9);
    });
  }
});
