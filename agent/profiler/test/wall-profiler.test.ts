import { describe, expect, it } from 'vitest';
import { createWallProfiler } from '../index';

describe('wall profiler', () => {
  it('accumulates count, total, mean and quantiles per handler', () => {
    const p = createWallProfiler();
    for (let i = 0; i < 100; i++) p.record('GET /a', 2);
    p.record('GET /a', 200);
    p.record('GET /b', 0.1);
    const a = p.get('GET /a')!;
    expect(a).toMatchObject({ id: 'GET /a', count: 101, totalMs: 400, maxMs: 200 });
    expect(a.meanMs).toBeCloseTo(400 / 101, 9);
    expect(a.p50Ms).toBeCloseTo(2, 1);
    expect(a.p99Ms).toBeCloseTo(2, 1);
    expect(p.snapshot().map((x) => x.id)).toEqual(['GET /a', 'GET /b']);
    p.reset('GET /a');
    expect(p.get('GET /a')).toBeUndefined();
    p.reset();
    expect(p.snapshot()).toEqual([]);
  });

  it('bounds the handlers it tracks and never throws on the request path', () => {
    const p = createWallProfiler({ maxHandlers: 2 });
    p.record('a', 1); p.record('b', 1); p.record('c', 1);
    p.record('a', NaN); p.record('a', -5);
    expect(p.snapshot().map((x) => [x.id, x.count])).toEqual([['a', 1], ['b', 1]]);
  });

  it('costs well under a microsecond per record', () => {
    const p = createWallProfiler();
    const ids = ['GET /a', 'GET /b', 'POST /c'];
    const n = 300_000;
    // CPU time, not wall time: a loaded CI machine deschedules the process but does not bill it.
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) p.record(ids[i % 3], (i % 50) / 10);
    const used = process.cpuUsage(t0);
    const nsPer = ((used.user + used.system) * 1000) / n;
    expect(nsPer).toBeLessThan(1000);
  });

  it('validates its options', () => {
    expect(() => createWallProfiler({ maxHandlers: 0 })).toThrow(new RangeError('options.maxHandlers must be an integer from 1 to 100000'));
    expect(() => createWallProfiler({ maxHandlers: 1.5 })).toThrow(new TypeError('options.maxHandlers must be an integer from 1 to 100000'));
    expect(() => createWallProfiler(null as never)).toThrow(new TypeError('options must be an object'));
  });
});
