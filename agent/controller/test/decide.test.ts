import { describe, expect, it } from 'vitest';
import { decide, initialDecision, validateDecisionOptions, type ControllerSignals, type Decision } from '../index';

const calm: ControllerSignals = { elu: 0.3, loopDelayP99Ms: 2, inFlight: 4, p99Ms: 20, sloMs: 100 };

// A server whose event-loop demand is `demand` x target when nothing is offloaded: ELU follows the
// local share, capped at 1 (a saturated loop reads 1 however deep the queue).
function plant(demand: number, ratio: number, noise = 1): ControllerSignals {
  const elu = Math.min(1, 0.7 * demand * (1 - ratio) * noise);
  return { elu, loopDelayP99Ms: elu >= 1 ? 120 : 3, inFlight: Math.round(40 * demand), p99Ms: 30, sloMs: 100 };
}

function run(prev: Decision, periods: number, signals: (d: Decision, i: number) => ControllerSignals): Decision[] {
  const out: Decision[] = [];
  for (let i = 0; i < periods; i++) out.push((prev = decide(prev, signals(prev, i))));
  return out;
}

describe('burst decision', () => {
  it('holds at zero under normal load', () => {
    const d = run(initialDecision(), 10, () => calm);
    expect(d.every((x) => x.ratio === 0 && x.action === 'hold' && x.prewarm === 0)).toBe(true);
  });

  it('jumps within one period of a burst, to a ratio that relieves the server', () => {
    const before = decide(initialDecision(), plant(0.8, 0));
    const burst = decide(before, plant(2, 0)); // demand doubles: ELU saturates, loop delay 120 ms
    expect(burst.action).toBe('raise');
    expect(burst.ratio).toBeGreaterThan(0.5);
    expect(burst.prewarm).toBeGreaterThan(0);
    // With that ratio the server is back under target: the next period holds instead of creeping up.
    const next = decide(burst, plant(2, burst.ratio));
    expect(next.overload).toBeLessThanOrEqual(1);
    expect(next.action).toBe('hold');
  });

  it('raises in proportion to the overload, from where it stands', () => {
    const d = decide({ ...initialDecision(), ratio: 0.5 }, { ...calm, elu: 0.98, inFlight: 40 });
    // overload 1.4 at r=0.5 → local share 0.5 * 0.87 / 1.4 → r ≈ 0.689
    expect(d.ratio).toBeCloseTo(1 - (0.5 / 1.15) / 1.4, 3);
    expect(d.prewarm).toBe(Math.ceil(40 * d.ratio * 1.15));
  });

  it('counts latency over the SLO only when the loop is busy', () => {
    expect(decide(initialDecision(), { ...calm, elu: 0.2, p99Ms: 400 }).action).toBe('hold'); // slow DB, idle server
    const busy = decide(initialDecision(), { ...calm, elu: 0.6, p99Ms: 300 });
    expect(busy.action).toBe('raise');
    // p99 is 3x the SLO, but latency may at most double the loop's own overload (0.6 / 0.7).
    expect(busy.why).toMatch(/^p99 at 1\.71x/);
  });

  it('lowers slowly after the burst: only after calm periods, one step at a time', () => {
    const start: Decision = { ...initialDecision(), ratio: 0.6 };
    const d = run(start, 30, (prev) => plant(0.5, prev.ratio));
    const firstLower = d.findIndex((x) => x.action === 'lower');
    expect(firstLower).toBe(2); // the third calm period
    for (let i = 1; i < d.length; i++) expect(d[i - 1].ratio - d[i].ratio).toBeLessThanOrEqual(0.1 + 1e-9);
    expect(d.filter((x) => x.action === 'lower').length).toBe(6);
    expect(d.at(-1)!.ratio).toBe(0);
    expect(d.some((x) => x.action === 'raise')).toBe(false);
  });

  it('does not step down into an overload, and does not oscillate at the boundary', () => {
    // Demand 1.3x target with ±4% noise: the ratio settles and stays put.
    let seed = 7;
    const noise = () => 0.96 + 0.08 * ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const d = run(initialDecision(), 300, (prev) => plant(1.3, prev.ratio, noise()));
    expect(d[0].action).toBe('raise');
    const settled = d.slice(5);
    expect(settled.filter((x) => x.action === 'raise').length).toBe(0);
    expect(settled.filter((x) => x.action === 'lower').length).toBeLessThanOrEqual(1);
    const ratios = settled.map((x) => x.ratio);
    expect(Math.max(...ratios) - Math.min(...ratios)).toBeLessThanOrEqual(0.1);
    expect(settled.every((x) => x.overload <= 1)).toBe(true);
  });

  it('respects minRatio and maxRatio', () => {
    expect(decide(initialDecision(), { ...calm, elu: 1, loopDelayP99Ms: 500 }, { maxRatio: 0.4 }).ratio).toBe(0.4);
    let d = initialDecision(0.5);
    for (let i = 0; i < 30; i++) d = decide(d, calm, { minRatio: 0.2 });
    expect(d.ratio).toBe(0.2);
  });

  it('validates its options', () => {
    const v = validateDecisionOptions;
    expect(() => v({ targetElu: 0 })).toThrow(new RangeError('options.targetElu must be a number from 0.05 to 1'));
    expect(() => v({ targetElu: '0.7' as never })).toThrow(new TypeError('options.targetElu must be a number from 0.05 to 1'));
    expect(() => v({ maxLoopDelayMs: 0 })).toThrow(new RangeError('options.maxLoopDelayMs must be a number from 1 to 60000'));
    expect(() => v({ maxInFlight: 2.5 })).toThrow(new TypeError('options.maxInFlight must be an integer from 1 to Infinity'));
    expect(() => v({ headroom: 2 })).toThrow(new RangeError('options.headroom must be a number from 0 to 1'));
    expect(() => v({ calmBelow: -1 })).toThrow(new RangeError('options.calmBelow must be a number from 0 to 1'));
    expect(() => v({ calmPeriods: 0 })).toThrow(new RangeError('options.calmPeriods must be an integer from 1 to 1000'));
    expect(() => v({ stepDown: 0 })).toThrow(new RangeError('options.stepDown must be a number from 0.001 to 1'));
    expect(() => v({ minRatio: 2 })).toThrow(new RangeError('options.minRatio must be a number from 0 to 1'));
    expect(() => v({ maxRatio: -1 })).toThrow(new RangeError('options.maxRatio must be a number from 0 to 1'));
    expect(() => v({ minRatio: 0.6, maxRatio: 0.5 })).toThrow(new RangeError('options.minRatio must not exceed options.maxRatio'));
    expect(() => v({ workerConcurrency: 0 })).toThrow(new RangeError('options.workerConcurrency must be an integer from 1 to 10000'));
    expect(() => v(null as never)).toThrow(new TypeError('options must be an object'));
  });
});
