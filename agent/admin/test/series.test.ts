import { describe, expect, it } from 'vitest';
import { createSeriesSampler } from '../index';
import { createMemoryControl } from './fixtures/memory-control';

describe('series sampler', () => {
  it('turns counter deltas into per-second rates', () => {
    const c = createMemoryControl();
    const s = createSeriesSampler(c, { capacity: 10 });
    expect(s.sample(1_000)).toBeUndefined(); // the first sample only sets the baseline
    c.setRatio(0.25);
    c.tick(100);
    const p = s.sample(2_000)!;
    expect(p).toMatchObject({ t: 2_000, localRps: 75, offloadedRps: 25, shadowRps: 1, ratio: 0.25, workersBusy: 1, workersTotal: 2 });
    expect(p).toMatchObject({ shadowHandlers: 1, liveHandlers: 1 });
    c.tick(100);
    // Two seconds between samples halve the rate.
    expect(s.sample(4_000)).toMatchObject({ localRps: 37.5, offloadedRps: 12.5 });
  });

  it('keeps a bounded ring in time order and filters by since', () => {
    const c = createMemoryControl();
    const s = createSeriesSampler(c, { capacity: 3 });
    for (let t = 0; t <= 5_000; t += 1_000) { c.tick(); s.sample(t); }
    expect(s.points().map((p) => p.t)).toEqual([3_000, 4_000, 5_000]);
    expect(s.points(3_500).map((p) => p.t)).toEqual([4_000, 5_000]);
  });

  it('never reports negative rates when counters reset, and ignores a clock going back', () => {
    const c = createMemoryControl();
    const s = createSeriesSampler(c);
    c.tick(); s.sample(1_000);
    c.state.totals.local = 0;
    expect(s.sample(2_000)!.localRps).toBe(0);
    expect(s.sample(1_500)).toBeUndefined();
  });

  it('samples on its own unref\'d timer', async () => {
    const c = createMemoryControl();
    let now = 0;
    const s = createSeriesSampler(c, { intervalMs: 10, now: () => (now += 1000) });
    s.start();
    await new Promise<void>((resolve) => {
      const check = setInterval(() => { if (s.points().length >= 2) { clearInterval(check); resolve(); } }, 5);
    });
    s.stop();
    expect(s.points()[1].t - s.points()[0].t).toBe(1000);
  });

  it('validates its options', () => {
    const c = createMemoryControl();
    expect(() => createSeriesSampler(c, { intervalMs: 1.5 })).toThrow(Object.assign(new TypeError('invalid option: options.intervalMs must be an integer from 10 to 3600000'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(() => createSeriesSampler(c, { intervalMs: 5 })).toThrow(Object.assign(new RangeError('option out of range: options.intervalMs must be an integer from 10 to 3600000'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_RANGE' }));
    expect(() => createSeriesSampler(c, { capacity: 'x' as never })).toThrow(Object.assign(new TypeError('invalid option: options.capacity must be an integer from 2 to 100000'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(() => createSeriesSampler(c, { capacity: 1 })).toThrow(Object.assign(new RangeError('option out of range: options.capacity must be an integer from 2 to 100000'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_RANGE' }));
    expect(() => createSeriesSampler(c, { now: 5 as never })).toThrow(Object.assign(new TypeError('invalid option: options.now must be a function'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(() => createSeriesSampler(c, null as never)).toThrow(Object.assign(new TypeError('invalid option: options must be an object'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
  });
});
