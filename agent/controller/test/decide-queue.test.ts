import { describe, expect, it } from 'vitest';
import { decide, initialDecision } from '../index';

describe('controller: worker saturation and latency', () => {
  const busy = { elu: 0.95, loopDelayP99Ms: 5, inFlight: 20, p99Ms: 2000, sloMs: 100 };
  it('holds the ratio when offloaded requests already wait for workers', () => {
    const d = decide({ ...initialDecision(0.5) }, { ...busy, queued: 7 });
    expect(d.ratio).toBe(0.5);
    expect(d.action).toBe('hold');
    expect(d.why).toMatch(/wait for workers/);
  });
  it('lets latency at most double what the event loop asks for', () => {
    const d = decide({ ...initialDecision(0) }, { ...busy, queued: 0 });
    // ELU 0.95 against 0.7 → 1.36x; p99 20x the SLO is capped at 2 × 1.36.
    expect(d.overload).toBeCloseTo(2 * (0.95 / 0.7), 5);
    expect(d.ratio).toBeLessThan(0.75);
    expect(d.ratio).toBeGreaterThan(0.5);
  });
});
