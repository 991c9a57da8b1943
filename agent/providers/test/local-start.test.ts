import path from 'node:path';
import { describe, expect, it } from 'vitest';

// From dist: the pool forks dist/offload-worker/local-entry.js next to it.
const ROOT = path.join(__dirname, '../../..');
const { LocalProvider } = require(path.join(ROOT, 'dist/agent/providers/local.js')) as typeof import('../local');

type Pool = InstanceType<typeof LocalProvider>;
const starting = (pool: Pool) => pool.stats().workers!.filter((w) => w.state === 'starting').length;
// A malformed event: every worker answers it, coded, without running anything.
const bogus = {} as never;

describe('the local pool starts a bounded number of workers at once', () => {
  it('a burst of invocations forks startConcurrency workers, and each one ready takes a job while the next ones start', async () => {
    const pool = new LocalProvider({ workers: 6, startConcurrency: 2 });
    try {
      let maxStarting = 0;
      const results = Array.from({ length: 6 }, () => pool.invoke(bogus, { timeoutMs: 600_000 }).finally(() => (maxStarting = Math.max(maxStarting, starting(pool)))));
      maxStarting = Math.max(maxStarting, starting(pool));
      expect(starting(pool)).toBe(2);
      expect(pool.stats().queued).toBe(6);
      const answers = await Promise.all(results);
      expect(answers.map((r) => r.error?.code)).toEqual(Array(6).fill('BEEHIVE_ERR_WORKER_BAD_EVENT'));
      expect(maxStarting).toBeLessThanOrEqual(2);
      expect(pool.stats().invocations).toBe(6);
    } finally {
      await pool.close();
    }
  });

  it('prewarm starts n workers in all, startConcurrency at a time', async () => {
    const pool = new LocalProvider({ workers: 8, startConcurrency: 2 });
    try {
      const warm = pool.prewarm(5);
      expect(starting(pool)).toBe(2);
      await warm;
      const s = pool.stats();
      expect(s.workers!.map((w) => w.state)).toEqual(Array(5).fill('idle'));
      // Past the pool's size: up to it, not beyond.
      await pool.prewarm(20);
      expect(pool.pids()).toHaveLength(8);
    } finally {
      await pool.close();
    }
  });

  it('refuses a start concurrency that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new LocalProvider({ workers: 2, startConcurrency: bad })).toThrow(/startConcurrency must be a positive integer/);
  });
});
