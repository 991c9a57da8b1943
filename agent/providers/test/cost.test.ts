import { describe, it, expect } from 'vitest';
import { billedMs, CostMeter, DEFAULT_PRICES, gbSeconds, pricesFromEnv } from '../cost';

describe('cost accounting', () => {
  it('rounds Lambda durations up to 1 ms with a 1 ms minimum; OpenWhisk bills whole ms', () => {
    expect(billedMs('lambda', 0.2)).toBe(1);
    expect(billedMs('lambda', 12.01)).toBe(13);
    expect(billedMs('lambda', 0)).toBe(1);
    expect(billedMs('openwhisk', 12.01)).toBe(13);
    expect(billedMs('openwhisk', 0)).toBe(0);
  });

  it('computes GB-seconds from billed ms and memory', () => {
    expect(gbSeconds(1000, 1024)).toBe(1);
    expect(gbSeconds(100, 128)).toBeCloseTo(0.0125, 12);
  });

  it('estimates cost with the default Lambda prices, per invocation and in total', () => {
    const m = new CostMeter('lambda');
    const one = m.record(100, 1024);
    expect(one).toEqual({ billedMs: 100, memoryMB: 1024, gbSeconds: 0.1, usd: 0.1 * 0.0000166667 + 0.2e-6 });
    m.record(300, 512);
    const s = m.summary();
    expect(s).toMatchObject({ requests: 2, billedMs: 400, gbSeconds: 0.25 });
    expect(s.usd).toBeCloseTo(0.25 * 0.0000166667 + 2 * 0.2e-6, 15);
    expect(s.prices).toEqual(DEFAULT_PRICES.lambda);
  });

  it('takes configured prices, also from the environment', () => {
    const m = new CostMeter('openwhisk', pricesFromEnv({ BEEHIVE_PRICE_GB_SECOND: '0.001', BEEHIVE_PRICE_PER_MILLION_REQUESTS: '1' }));
    m.record(1000, 2048);
    expect(m.summary().usd).toBeCloseTo(2 * 0.001 + 1e-6, 12);
    expect(new CostMeter('openwhisk').prices.perGbSecond).toBe(0.000017);
    expect(pricesFromEnv({})).toBeUndefined();
  });
});
