import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createCpuProfiler, type Attribution } from '../index';

/** A coded option error: its code, the built-in it is, and its message. */
const optionError = (code: string, Base: ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor, message: string) =>
  expect.objectContaining({ code, name: Base.name, message });

// Handlers of an app: one does real CPU work through a helper, one is trivial.
function digestMany(rounds: number): string {
  let h = 'seed';
  for (let i = 0; i < rounds; i++) h = createHash('sha256').update(h).digest('hex');
  return h;
}
function heavyHandler(): string { return digestMany(2000); }
function trivialHandler(): number { return 1 + 1; }

function busyFor(ms: number, fn: () => unknown): void {
  const end = performance.now() + ms;
  while (performance.now() < end) fn();
}

describe('CPU profiler', () => {
  it('attributes sampled CPU time to the handler whose function is on the stack', () => {
    const p = createCpuProfiler({ samplingIntervalUs: 200 });
    try {
      expect(p.track('GET /heavy', heavyHandler)).toBe(true);
      expect(p.track('GET /trivial', trivialHandler.bind(null))).toBe(true); // bound: followed to its target
      expect(p.track('native', Math.max)).toBe(false);
      p.begin();
      busyFor(300, () => { heavyHandler(); for (let i = 0; i < 100; i++) trivialHandler(); });
      const a = p.end()!;
      const heavy = a.byHandler.get('GET /heavy') ?? 0;
      const trivial = a.byHandler.get('GET /trivial') ?? 0;
      expect(heavy).toBeGreaterThan(0.5 * a.busyMs);
      expect(trivial).toBeLessThan(0.1 * heavy);
      expect(p.totals().get('GET /heavy')).toBe(heavy);
      expect(p.end()).toBeUndefined();
      p.untrack('GET /heavy');
      p.begin();
      busyFor(50, heavyHandler);
      expect(p.end()!.byHandler.has('GET /heavy')).toBe(false);
    } finally {
      p.close();
    }
  });

  it('samples in duty-cycle windows and stops between them', async () => {
    const windows: Attribution[] = [];
    let done!: () => void;
    const twoWindows = new Promise<void>((resolve) => { done = resolve; });
    const p = createCpuProfiler({
      windowMs: 40, periodMs: 80,
      onWindow: (a) => { windows.push(a); if (windows.length === 2) done(); },
    });
    p.track('GET /heavy', heavyHandler);
    const t0 = performance.now();
    p.start();
    const spin = setInterval(() => busyFor(5, heavyHandler), 10);
    await twoWindows;
    const elapsed = performance.now() - t0;
    clearInterval(spin);
    p.close();
    // Timers run late on a loaded machine, so only what must hold: windows last at least windowMs
    // and sampling covers less than the wall time (it stopped between windows).
    expect(windows.every((w) => w.durationMs >= 35)).toBe(true);
    expect(p.sampledMs).toBe(windows[0].durationMs + windows[1].durationMs);
    expect(p.sampledMs).toBeLessThan(elapsed);
    expect(p.totals().get('GET /heavy')).toBeGreaterThan(0);
  });

  it('validates its options', () => {
    expect(() => createCpuProfiler({ samplingIntervalUs: 10 })).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_RANGE', RangeError, 'option out of range: options.samplingIntervalUs must be an integer from 50 to 1000000'));
    expect(() => createCpuProfiler({ windowMs: 0.5 })).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_TYPE', TypeError, 'invalid option: options.windowMs must be an integer from 10 to 3600000'));
    expect(() => createCpuProfiler({ periodMs: 5 })).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_RANGE', RangeError, 'option out of range: options.periodMs must be an integer from 10 to 3600000'));
    expect(() => createCpuProfiler({ windowMs: 500, periodMs: 100 })).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_RANGE', RangeError, 'option out of range: options.windowMs must not exceed options.periodMs'));
    expect(() => createCpuProfiler({ onWindow: 1 as never })).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_TYPE', TypeError, 'invalid option: options.onWindow must be a function'));
    expect(() => createCpuProfiler(null as never)).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_TYPE', TypeError, 'invalid option: options must be an object'));
  });
});
