import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { selectHandlers, type SelectionCandidate } from '../index';

/** A coded option error: its code, the built-in it is, and its message. */
const optionError = (code: string, Base: ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor, message: string) =>
  expect.objectContaining({ code, name: Base.name, message });

const c = (id: string, count: number, meanMs: number, extra: Partial<SelectionCandidate> = {}): SelectionCandidate =>
  ({ id, count, meanMs, totalMs: count * meanMs, ...extra });

describe('root-handler selection', () => {
  it('picks the CPU-heavy handler of an app-like mix, timed for real', () => {
    // A thumbnail-like handler that burns a few ms, and cheap routes called far more often.
    const routes: Record<string, () => unknown> = {
      'GET /thumb': () => { let h = 'x'; for (let i = 0; i < 3000; i++) h = createHash('sha256').update(h).digest('hex'); return h; },
      'GET /health': () => ({ ok: true }),
      'GET /topics/:id': () => JSON.stringify({ id: 1, title: 'hello', tags: ['a', 'b'] }),
      'POST /login': () => ({ user: 'u', at: Date.now() }),
    };
    const traffic = ['GET /thumb', ...Array(30).fill('GET /health'), ...Array(30).fill('GET /topics/:id'), ...Array(10).fill('POST /login')];
    // Wall time per handler, accumulated as the agent's handler stats do (count and total).
    const wall = new Map<string, { count: number; totalMs: number }>();
    for (let round = 0; round < 12; round++) {
      for (const id of traffic) {
        const t0 = performance.now();
        routes[id]();
        const p = wall.get(id) ?? { count: 0, totalMs: 0 };
        p.count++;
        p.totalMs += performance.now() - t0;
        wall.set(id, p);
      }
    }
    const s = selectHandlers([...wall].map(([id, p]) => c(id, p.count, p.totalMs / p.count)));
    expect(s.selected).toEqual(['GET /thumb']);
    expect(s.verdicts.find((v) => v.id === 'GET /health')!.why).toMatch(/^mean .* ms < 1 ms$/);
  });

  it('needs both a large share and a long enough mean', () => {
    const s = selectHandlers([
      c('big-slow', 100, 10),   // 1000 ms, 10 ms mean → picked
      c('big-fast', 5000, 0.2), // 1000 ms but 0.2 ms mean → too short to pay for an invocation
      c('small-slow', 5, 5),    // 25 ms of 2025: 1.2% → too small a share
    ]);
    expect(s.selected).toEqual(['big-slow']);
    expect(s.verdicts.map((v) => v.selected)).toEqual([true, false, false]);
  });

  it('never picks a handler that has a reason, nor one with too few runs', () => {
    const s = selectHandlers([c('socket', 100, 20, { reason: 'captures a net.Socket' }), c('new', 2, 50), c('ok', 50, 5)]);
    expect(s.selected).toEqual(['ok']);
    expect(s.verdicts[0].why).toBe('not offloadable: captures a net.Socket');
    expect(s.verdicts[1].why).toBe('2 runs, judged after 5');
  });

  it('keeps a selected handler down to keepShare so the choice does not flap', () => {
    const mix = (selected: boolean) => [c('a', 100, 2, { selected }), c('b', 100, 25)]; // a: 200/2700 = 7.4%
    expect(selectHandlers(mix(false)).selected).toEqual(['b']);
    expect(selectHandlers(mix(true)).selected).toEqual(['b', 'a']);
  });

  it('takes the server time as denominator and caps the number selected', () => {
    const cands = [c('a', 10, 10), c('b', 10, 20), c('c', 10, 30)];
    expect(selectHandlers(cands, { serverTimeMs: 10_000 }).selected).toEqual([]); // each under 10% of the server
    const capped = selectHandlers(cands, { maxSelected: 2 });
    expect(capped.selected).toEqual(['c', 'b']);
    expect(capped.verdicts[0]).toMatchObject({ selected: false, why: 'beyond the 2 largest' });
    expect(selectHandlers([], {}).selected).toEqual([]);
  });

  it('validates its options', () => {
    expect(() => selectHandlers([], { minShare: 2 })).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_RANGE', RangeError, 'option out of range: options.minShare must be a number from 0 to 1'));
    expect(() => selectHandlers([], { minShare: 'x' as never })).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_TYPE', TypeError, 'invalid option: options.minShare must be a number from 0 to 1'));
    expect(() => selectHandlers([], { minShare: 0.1, keepShare: 0.2 })).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_RANGE', RangeError, 'option out of range: options.keepShare must not exceed options.minShare'));
    expect(() => selectHandlers([], { minMeanMs: -1 })).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_RANGE', RangeError, 'option out of range: options.minMeanMs must be a number from 0 to 60000'));
    expect(() => selectHandlers([], { minCount: 1.5 })).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_TYPE', TypeError, 'invalid option: options.minCount must be an integer from 1 to 1000000000'));
    expect(() => selectHandlers([], { maxSelected: -1 })).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_RANGE', RangeError, 'option out of range: options.maxSelected must be an integer from 0 to Infinity'));
    expect(() => selectHandlers([], { serverTimeMs: NaN })).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_TYPE', TypeError, 'invalid option: options.serverTimeMs must be a number from 0 to Infinity'));
    expect(() => selectHandlers([], null as never)).toThrow(optionError('BEEHIVE_ERR_PROFILER_OPTION_TYPE', TypeError, 'invalid option: options must be an object'));
  });
});
