import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { controllerHooks, startController, validateControllerOptions, type ControllerEvent, type ControllerOptions } from '../index';
import type { AgentControl, AgentState } from '../../state';

/** Keeps the event loop busy in 20 ms slices until stopped: a CPU burst inside this very process. */
function burnCpu(): () => void {
  let on = true;
  const slice = (): void => {
    const end = performance.now() + 20;
    while (performance.now() < end) { /* busy */ }
    if (on) setImmediate(slice);
  };
  setImmediate(slice);
  return () => { on = false; };
}

async function nextDecision(c: NodeJS.EventEmitter, match: (e: ControllerEvent) => boolean): Promise<ControllerEvent> {
  for (;;) {
    const [e] = (await once(c, 'decision')) as [ControllerEvent];
    if (match(e)) return e;
  }
}

/** An agent's state as the controller reads it: one selected handler that ran 100 more times locally (2 s of work) at each read. */
function agent(mode: AgentState['mode'] = 'auto') {
  const calls: Array<[string, unknown]> = [];
  let ratio = 0;
  let local = 0;
  const handler = () => ({ id: 'GET /thumb', mode: 'auto', selected: true, phase: 'live', local: (local += 100), offloaded: 0, reexecuted: 0, latency: { local: { p50: 20 }, offloaded: { p50: 0 } } });
  const state = () => ({ mode, ratio, sloMs: 100, workers: [], handlers: [handler()], totals: { inFlight: 8, latency: { p99: 20 } } }) as unknown as AgentState;
  const control: AgentControl = {
    getState: state,
    setRatio: (r) => { calls.push(['setRatio', r]); ratio = r; },
    setHandlerMode: () => true,
  };
  return { control, calls, ratio: () => ratio };
}

describe('burst controller at run time', () => {
  it('raises the ratio in the first period of a real CPU burst and lowers it after', async () => {
    const a = agent();
    const prewarms: number[] = [];
    const handlerRatios: Array<Record<string, number>> = [];
    // Saturated from ELU 0.85: a busy machine may take some of the burning loop's time (this tests the
    // loop at run time; the thresholds are the decision tests' business).
    const c = startController({ ...controllerHooks(a.control, { prewarm: (n) => prewarms.push(n), setHandlerRatios: (r) => handlerRatios.push(r) }), periodMs: 50, calmPeriods: 2, eluSaturated: 0.85, eluHigh: 0.85 });
    try {
      // A period really idle: busy time the requests do not explain (over 0.25 of a period: this
      // file's own start on a loaded machine) makes the next overload wait one period (a stall's
      // catching up looks the same), which is the decision tests' business, not this one's.
      const idle = await nextDecision(c, (e) => e.ratio === 0 && e.signals.elu < 0.2);
      expect(idle.ratio).toBe(0);
      // The burst starts right after a decision: the next period is entirely busy.
      const stop = burnCpu();
      const burst = await nextDecision(c, () => true);
      stop();
      expect(burst.signals.elu).toBeGreaterThan(0.85);
      expect(burst.action).toBe('raise');
      expect(burst.ratio).toBe(1);
      expect(a.ratio()).toBe(1);
      expect(handlerRatios.at(-1)).toEqual({ 'GET /thumb': 1 });
      expect(prewarms.at(-1)).toBe(burst.prewarm);
      expect(burst.prewarm).toBeGreaterThan(0);
      // Idle again: after two calm periods, back to zero at once.
      const down = await nextDecision(c, (e) => e.ratio === 0);
      expect(down.action).toBe('lower');
      expect(handlerRatios.at(-1)).toEqual({ 'GET /thumb': 0 });
      expect(a.calls.map(([, r]) => r)).toEqual([1, 0]);
    } finally {
      c.stop();
    }
  });

  it('only watches when the agent is not in auto mode, and starts from an operator\'s ratio', async () => {
    const a = agent('manual');
    const c = startController({ ...controllerHooks(a.control), periodMs: 20 });
    try {
      const stop = burnCpu();
      const e = await nextDecision(c, (x) => x.signals.elu > 0.8);
      stop();
      expect(e.applied).toBe(false);
      expect(a.calls).toEqual([]);
    } finally {
      c.stop();
    }
  });

  it('reports failing hooks as errors and keeps running', async () => {
    let n = 0;
    const c = startController({
      periodMs: 10,
      read: () => { if (n++ === 0) throw new Error('state unavailable'); return { ratio: 0, inFlight: 0, p99Ms: 0, sloMs: 100 }; },
      setRatio: () => {},
    });
    try {
      const [err] = await once(c, 'error');
      expect((err as Error).message).toBe('state unavailable');
      await once(c, 'decision');
    } finally {
      c.stop();
    }
  });

  it('validates its options', () => {
    const ok: ControllerOptions = { read: () => ({ ratio: 0, inFlight: 0, p99Ms: 0, sloMs: 1 }), setRatio: () => {} };
    const v = (o: Partial<ControllerOptions>) => () => validateControllerOptions({ ...ok, ...o } as ControllerOptions);
    expect(v({ read: undefined })).toThrow(Object.assign(new TypeError('invalid option: options.read must be a function'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_TYPE' }));
    expect(v({ setRatio: 1 as never })).toThrow(Object.assign(new TypeError('invalid option: options.setRatio must be a function'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_TYPE' }));
    expect(v({ prewarm: 'x' as never })).toThrow(Object.assign(new TypeError('invalid option: options.prewarm must be a function'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_TYPE' }));
    expect(v({ setHandlerRatios: 1 as never })).toThrow(Object.assign(new TypeError('invalid option: options.setHandlerRatios must be a function'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_TYPE' }));
    expect(v({ periodMs: 5 })).toThrow(Object.assign(new RangeError('option out of range: options.periodMs must be an integer from 10 to 60000'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(v({ periodMs: 10.5 })).toThrow(Object.assign(new TypeError('invalid option: options.periodMs must be an integer from 10 to 60000'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_TYPE' }));
    expect(v({ delayResolutionMs: 0 })).toThrow(Object.assign(new RangeError('option out of range: options.delayResolutionMs must be an integer from 1 to 1000'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(v({ delayResolutionMs: 'a' as never })).toThrow(Object.assign(new TypeError('invalid option: options.delayResolutionMs must be an integer from 1 to 1000'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_TYPE' }));
    expect(() => validateControllerOptions(null as never)).toThrow(Object.assign(new TypeError('invalid option: options must be an object'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_TYPE' }));
    expect(() => startController({ ...ok, targetElu: 3 })).toThrow(Object.assign(new RangeError('option out of range: options.targetElu must be a number from 0.05 to 1'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
  });
});
