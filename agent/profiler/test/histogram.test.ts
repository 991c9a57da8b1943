import { describe, expect, it } from 'vitest';
import { LogHistogram } from '../index';

describe('LogHistogram', () => {
  it('reports quantiles within its bucket precision and exact min, max, mean', () => {
    const h = new LogHistogram();
    for (let i = 1; i <= 10_000; i++) h.record(i / 100); // 0.01 .. 100 ms, uniform
    expect(h.count).toBe(10_000);
    expect(h.min).toBe(0.01);
    expect(h.max).toBe(100);
    expect(h.mean).toBeCloseTo(50.005, 6);
    expect(Math.abs(h.quantile(0.5) / 50 - 1)).toBeLessThan(0.025);
    expect(Math.abs(h.quantile(0.99) / 99 - 1)).toBeLessThan(0.025);
    expect(h.quantile(1)).toBe(100);
    expect(h.quantile(0)).toBe(0.01);
  });

  it('spans microseconds to an hour and ignores values that are not durations', () => {
    const h = new LogHistogram();
    h.record(0.0001);
    h.record(3_600_000);
    for (const bad of [-1, NaN, Infinity]) h.record(bad);
    expect(h.count).toBe(2);
    expect(h.quantile(0)).toBe(0.0001);
    expect(h.quantile(0.5)).toBeLessThan(0.0011); // values under 1 µs share the first bucket
    expect(h.quantile(1)).toBe(3_600_000);
    h.reset();
    expect([h.count, h.quantile(0.5), h.mean]).toEqual([0, 0, 0]);
  });
});
