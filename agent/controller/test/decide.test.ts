import { describe, expect, it } from 'vitest';
import { decide, explainedLoad, handlerSignals, initialDecision, validateDecisionOptions, type ControllerSignals, type Decision, type HandlerSignals } from '../index';
import { simulate } from './plant';

// One handler, 75 req/s in a 250 ms period: 18.75 requests, 20 ms each.
const report = (over: Partial<HandlerSignals> = {}): HandlerSignals => ({ id: 'GET /report', requests: 18.75, attempts: 0, reexecuted: 0, localMs: 20, offloadMs: 21, controllable: true, ...over });
const sig = (over: Partial<ControllerSignals> = {}): ControllerSignals => ({ periodMs: 250, elu: 1, loopDelayP99Ms: 200, inFlight: 30, p99Ms: 0, sloMs: 100, queued: 0, workerSlots: 32, workersStarting: 0, handlers: [report()], ...over });
const at = (ratios: Record<string, number>): Decision => ({ ...initialDecision(), ratios, ratio: Object.values(ratios)[0] ?? 0 });

describe('burst decision, one period at a time', () => {
  it('keeps the server alone while it keeps up, however slow its requests', () => {
    expect(decide(initialDecision(), sig({ elu: 0.85, loopDelayP99Ms: 20 })).ratios).toEqual({ 'GET /report': 0 });
    // A slow database with an idle loop: requests take long, offloading would not shorten them.
    expect(decide(initialDecision(), sig({ elu: 0.3, loopDelayP99Ms: 400, p99Ms: 900 })).action).toBe('hold');
  });

  it('is not set off by busy time the requests do not explain', () => {
    // ELU 0.99 and a 110 ms loop delay over 290 ms, but 6 runs of 21 ms: 126 ms of handler work (the
    // process waited for a core, or collected garbage). Offloading would not give that time back.
    const d = decide(initialDecision(), sig({ periodMs: 290, elu: 0.99, loopDelayP99Ms: 110, handlers: [report({ requests: 6, localMs: 21 })] }));
    expect(d.load).toBeCloseTo(126 / 290, 3);
    expect(d.action).toBe('hold');
    expect(d.ratios['GET /report']).toBe(0);
  });

  it('counts a loop saturated for 750 ms as an overload, whatever the requests explain', () => {
    // ELU 1 in 250 ms periods, 6 runs of 21 ms each (126 ms): not explained, so not at once.
    const busy = sig({ elu: 1, loopDelayP99Ms: 0, handlers: [report({ requests: 6, localMs: 21 })] });
    let d = initialDecision();
    for (let i = 0; i < 2; i++) expect((d = decide(d, busy)).action).toBe('hold');
    // The third: 750 ms saturated.
    d = decide(d, busy);
    expect(d.action).toBe('raise');
    expect(d.why).toMatch(/for 750 ms/);
  });

  it('treats a long loop delay on a busy loop as saturation', () => {
    const d = decide(initialDecision(), sig({ elu: 0.85, loopDelayP99Ms: 120 }));
    expect(d.action).toBe('raise');
    expect(d.saturated).toBe(true);
    expect(d.why).toMatch(/loop delay 120 ms/);
  });

  it('sizes an unsaturated overload from the demand, once it lasts two periods', () => {
    // 47.5 req/s of 20 ms: load 0.95 with nothing offloaded. After a period at 0.7 the two average
    // 0.825, under the trigger (0.9): one period like that may be catching up after a stall.
    const busy = sig({ elu: 0.95, loopDelayP99Ms: 20, handlers: [report({ requests: 11.875 })] });
    expect(decide({ ...initialDecision(), load: 0.7 }, busy).action).toBe('hold');
    // The second such period: demand 0.95, remove 0.30 (down to 0.65) at 47.5/s * (20 - 2) ms saved
    // per offload = 0.855 per unit ratio: 0.351.
    const d = decide({ ...initialDecision(), load: 0.95 }, busy);
    expect(d.action).toBe('raise');
    expect(d.ratios['GET /report']).toBeCloseTo(0.351, 3);
  });

  it('counts the savings of offloads in force into the demand', () => {
    // 50 req/s, 45% offloaded: 6.875 local runs * 20 ms + 5.625 attempts * 2 ms = 148.75 ms of 250,
    // load 0.595; the attempts saved 5.625 * 18 = 101.25 ms: demand 1.0. It needs 0.35 / (50 * 18 /
    // 1000) = 0.389, less than in force, but not by the lowering dead band (0.1): it holds.
    const d = decide(at({ 'GET /report': 0.45 }), sig({ elu: 0.595, loopDelayP99Ms: 10, handlers: [report({ requests: 12.5, attempts: 5.625 })] }));
    expect(d.demand).toBeCloseTo(1.0, 3);
    expect(d.action).toBe('hold');
    expect(d.ratios['GET /report']).toBe(0.45);
    // 65 req/s on the same share: 8.9375 * 20 + 7.3125 * 2 = 193.375 ms, load 0.7735, saved 131.625 ms:
    // demand 1.3, which needs 0.65 / (65 * 18 / 1000) = 0.556.
    const up = decide(at({ 'GET /report': 0.45 }), sig({ elu: 0.7735, loopDelayP99Ms: 10, handlers: [report({ requests: 16.25, attempts: 7.3125 })] }));
    expect(up.demand).toBeCloseTo(1.3, 3);
    expect(up.action).toBe('raise');
    expect(up.ratios['GET /report']).toBeCloseTo(0.556, 3);
  });

  it('is bounded by the workers: slots, and what they completed while offloads waited', () => {
    // One slot at 80% holds 800 ms of work per second; a 21 ms offload at 75/s is 1575 ms per unit ratio.
    expect(decide(initialDecision(), sig({ workerSlots: 1 })).ratios['GET /report']).toBeCloseTo(0.508, 3);
    // A 5 ms handler at 200/s, 0.6 in force: 30 local runs * 5 ms + 20 attempts * 2 ms = 190 ms (load
    // 0.76), saved 20 * 3 = 60 ms, demand 1.0, so 0.35 / (200 * 3 / 1000) = 0.583 is needed. But 9
    // offloads wait and none is starting: the 20 completed (80/s) are what the workers take, and 80%
    // of that against 200 req/s is 0.32.
    const five = report({ requests: 50, attempts: 20, localMs: 5 });
    const queued = sig({ elu: 0.76, loopDelayP99Ms: 20, queued: 9, handlers: [five] });
    const d = decide(at({ 'GET /report': 0.6 }), queued);
    expect(d.action).toBe('lower');
    expect(d.ratios['GET /report']).toBeCloseTo(0.32, 3);
    expect(d.why).toMatch(/wait for workers/);
    // The same while workers are still starting: a cold start is not a capacity, it holds.
    const cold = decide(at({ 'GET /report': 0.6 }), { ...queued, workersStarting: 3 });
    expect(cold.ratios['GET /report']).toBe(0.6);
    // Nor is a saturated loop, which reads the workers' results late...
    const sat = decide(at({ 'GET /report': 0.6 }), { ...queued, elu: 1 });
    expect(sat.estimates.workerRps).toBe(Infinity);
    // ...unless the wait grows from one period to the next: 9, then 14 waiting.
    const full = decide(sat, { ...queued, elu: 1, queued: 14 });
    expect(full.estimates.workerRps).toBe(80);
    // Then the workers are the bottleneck even on a saturated loop: down to what they take, never up.
    expect(full.ratios['GET /report']).toBeCloseTo(0.32, 3);
  });

  it('with a fixed pool and no warm worker, starts the workers first and offloads once one is ready', () => {
    const cold = decide(initialDecision(), sig({ workerSlots: 16, workersWarm: 0 }));
    expect(cold.ratios['GET /report']).toBe(0);
    expect(cold.prewarm).toBe(4);
    expect(cold.why).toMatch(/starting 4 workers first/);
    // While they boot, the server gets little of the machine: the loop busy (ELU 1) but 4 requests
    // served (80 ms of 250). Still the overload it was: still starting, still 4 asked for.
    const starving = sig({ workerSlots: 16, workersWarm: 0, workersStarting: 4, loopDelayP99Ms: 0, handlers: [report({ requests: 4 })] });
    const starting = decide(cold, starving);
    expect(starting.ratios['GET /report']).toBe(0);
    expect(starting.prewarm).toBe(4);
    expect(starting.starting).toBe(true);
    // Once two are ready, on the same starved signals: offloading, as much as the two take (800 ms a
    // second each against 16/s * 21 ms: all of it).
    const two = decide(starting, { ...starving, workersWarm: 2, workersStarting: 2 });
    expect(two.action).toBe('raise');
    expect(two.ratios['GET /report']).toBe(1);
    // One ready: what it takes at 80%, 800 ms per second against 75/s * 21 ms, is 0.508; the four
    // asked for stay asked for.
    const one = decide(starting, sig({ workerSlots: 16, workersWarm: 1, workersStarting: 3 }));
    expect(one.action).toBe('raise');
    expect(one.ratios['GET /report']).toBeCloseTo(0.508, 3);
    expect(one.prewarm).toBe(4);
    // Offloads waiting on a saturated loop while more workers start prove nothing about the workers
    // (a worker is free only once the loop has read its result; the starting ones are on their way):
    // the raise goes on, to what the two warm ones take. (Before, a cold burst stayed at the first
    // ratio while the local share kept the loop saturated.)
    const waiting = decide(one, sig({ workerSlots: 16, workersWarm: 2, workersStarting: 2, queued: 12 }));
    expect(waiting.action).toBe('raise');
    expect(waiting.ratios['GET /report']).toBe(1);
    const ready = decide(one, sig({ workerSlots: 16, workersWarm: 2, workersStarting: 2 }));
    expect(ready.action).toBe('raise');
    expect(ready.ratios['GET /report']).toBe(1);
    // A platform that scales out (no fixed pool) offloads at once.
    expect(decide(initialDecision(), sig({ workerSlots: Infinity, workersWarm: 0 })).ratios['GET /report']).toBe(1);
  });

  it('after a stall (busy time the requests do not explain), waits one period before starting', () => {
    const afterStall = { ...initialDecision(), elu: 0.97, load: 0.44 };
    const d = decide(afterStall, sig({ elu: 1, loopDelayP99Ms: 90 }));
    expect(d.action).toBe('hold');
    expect(d.why).toMatch(/after a stall/);
    // Still saturated the period after: a burst, not a stall.
    expect(decide(d, sig({ elu: 1, loopDelayP99Ms: 90 })).action).toBe('raise');
  });

  it('starts offloading a handler only when it saves enough, keeps it while it saves anything', () => {
    const withCost = (d: Decision, ms: number): Decision => ({ ...d, estimates: { ...d.estimates, offloadCostMs: ms } });
    // A 10 ms handler, saturated. At 8.5 ms per offload an attempt saves 1.5 ms, under 20% of a run.
    const start = decide(withCost(initialDecision(), 8.5), sig({ handlers: [report({ localMs: 10, requests: 30 })] }));
    expect(start.ratios['GET /report']).toBe(0);
    expect(start.why).toMatch(/no handler gains/);
    // Offloaded already, it keeps its share: 1.5 ms saved is still a saving.
    const offloaded = report({ localMs: 10, requests: 30, attempts: 30 });
    expect(decide(withCost(at({ 'GET /report': 1 }), 8.5), sig({ handlers: [offloaded] })).ratios['GET /report']).toBe(1);
    // At 11 ms an offload costs more than the run it replaces: dropped at once.
    const drop = decide(withCost(at({ 'GET /report': 1 }), 11), sig({ handlers: [offloaded] }));
    expect(drop.ratios['GET /report']).toBe(0);
    expect(drop.action).toBe('lower');
  });

  it('asks for the workers the offloaded share keeps busy', () => {
    // 75/s * 1 * 21 ms = 1.575 workers busy, twice that while saturated (what was served understates
    // the demand), at 80%: 4 warm.
    expect(decide(initialDecision(), sig()).prewarm).toBe(4);
    // Not saturated: 47.5/s * 0.351 * 21 ms = 0.35 busy, at 80%: 1.
    expect(decide({ ...initialDecision(), load: 0.95 }, sig({ elu: 0.95, loopDelayP99Ms: 20, handlers: [report({ requests: 11.875 })] })).prewarm).toBe(1);
    expect(decide(initialDecision(), sig({ elu: 0.5, loopDelayP99Ms: 5 })).prewarm).toBe(0);
  });

  it('respects minRatio and maxRatio', () => {
    expect(decide(initialDecision(), sig(), { maxRatio: 0.4 }).ratios['GET /report']).toBe(0.4);
  });

  it('validates its options', () => {
    const v = validateDecisionOptions;
    expect(() => v({ targetElu: 0 })).toThrow(Object.assign(new RangeError('option out of range: options.targetElu must be a number from 0.05 to 1'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(() => v({ targetElu: '0.7' as never })).toThrow(Object.assign(new TypeError('invalid option: options.targetElu must be a number from 0.05 to 1'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_TYPE' }));
    expect(() => v({ eluHigh: 0.7, releaseElu: 0.8 })).toThrow(Object.assign(new RangeError('option out of range: options.releaseElu, eluHigh and eluSaturated must be in that order'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(() => v({ targetElu: 0.95 })).toThrow(Object.assign(new RangeError('option out of range: options.targetElu must not exceed options.eluHigh'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(() => v({ maxLoopDelayMs: 0 })).toThrow(Object.assign(new RangeError('option out of range: options.maxLoopDelayMs must be a number from 1 to 60000'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(() => v({ persistMs: 0 })).toThrow(Object.assign(new RangeError('option out of range: options.persistMs must be a number from 1 to 600000'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(() => v({ calmPeriods: 0 })).toThrow(Object.assign(new RangeError('option out of range: options.calmPeriods must be an integer from 1 to 1000'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(() => v({ calmPeriods: 1.5 })).toThrow(Object.assign(new TypeError('invalid option: options.calmPeriods must be an integer from 1 to 1000'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_TYPE' }));
    expect(() => v({ minGain: 2 })).toThrow(Object.assign(new RangeError('option out of range: options.minGain must be a number from 0 to 1'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(() => v({ offloadCostMs: -1 })).toThrow(Object.assign(new RangeError('option out of range: options.offloadCostMs must be a number from 0 to 10000'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(() => v({ workerUtil: 0 })).toThrow(Object.assign(new RangeError('option out of range: options.workerUtil must be a number from 0.05 to 1'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(() => v({ evidenceHalfLifeMs: 0 })).toThrow(Object.assign(new RangeError('option out of range: options.evidenceHalfLifeMs must be a number from 1 to 3600000'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(() => v({ minRatio: 2 })).toThrow(Object.assign(new RangeError('option out of range: options.minRatio must be a number from 0 to 1'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(() => v({ minRatio: 0.6, maxRatio: 0.5 })).toThrow(Object.assign(new RangeError('option out of range: options.minRatio must not exceed options.maxRatio'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_RANGE' }));
    expect(() => v(null as never)).toThrow(Object.assign(new TypeError('invalid option: options must be an object'), { code: 'BEEHIVE_ERR_CONTROLLER_OPTION_TYPE' }));
  });
});

describe('what the controller learns', () => {
  it('the per-request HTTP cost from calm periods, the offload cost from busy ones', () => {
    // Plant: 0.5 ms per request, 4 ms per offload (the controller assumes 2 until it measures).
    const rows = simulate({ handlers: [{ id: 'GET /thumb', ms: 10, rate: (i) => (i >= 80 ? 200 : 60) }], offloadMs: 4 }, 120);
    // Slowly (it must not soak up stalls): 0.5 * (1 - 0.95^80) = 0.49 after 80 periods.
    expect(rows[79].decision.estimates.baseMs).toBeCloseTo(0.49, 2);
    // Offloading everything from the first burst period on; judged on the loop itself (not on the
    // misjudged costs), the backlog of that period drains within a second.
    expect(rows.slice(80).every((r) => r.decision.ratio === 1)).toBe(true);
    expect(rows[85].backlog).toBe(0);
    // Slowly up as well: 2 + 2 * (1 - 0.95^n) over the 40 burst periods, most of the way to 4.
    const cost = rows[119].decision.estimates.offloadCostMs;
    expect(cost).toBeGreaterThan(3.6);
    expect(cost).toBeLessThanOrEqual(4);
    // With 4 ms per offload, 200/s (demand 2.1) needs (2.1 - 0.65) / (200 * 6 / 1000) = 1.2: all of it.
    expect(rows[119].decision.ratio).toBe(1);
  });

  it('scales a local run down to its event-loop share when the handler waits on I/O', () => {
    // 50 ms wall, 5 ms on the loop: 40/s is ELU 0.22, not 2.
    const rows = simulate({ handlers: [{ id: 'GET /db', ms: 5, wallMs: 50, rate: () => 40 }] }, 30);
    expect(rows[29].decision.estimates.cpuShare).toBeCloseTo((40 * 5.5) / (40 * 50), 2);
  });

  it('counts conflicting attempts retried on workers as server work (a capture and a commit each)', () => {
    const est = initialDecision().estimates;
    const s = (retried: number): ControllerSignals =>
      ({ periodMs: 250, elu: 1, loopDelayP99Ms: 0, inFlight: 0, handlers: [report({ requests: 20, attempts: 10, reexecuted: 0, retried })] }) as ControllerSignals;
    expect(explainedLoad(s(10), est)).toBeGreaterThan(explainedLoad(s(0), est));
    const r = (local: number, offloaded: number, reexecuted: number, retried: number) => ({ id: 'h', local, offloaded, reexecuted, retried, localMs: 9, offloadMs: 11, controllable: true });
    expect(handlerSignals(new Map([['h', r(10, 10, 0, 4)]]), [r(10, 20, 0, 9)])[0].retried).toBe(5);
  });

  it('turns cumulative counters into a period\'s requests, attempts and re-runs', () => {
    const r = (local: number, offloaded: number, reexecuted: number) => ({ id: 'h', local, offloaded, reexecuted, localMs: 9, offloadMs: 11, controllable: true });
    // 12 local runs of which 3 re-ran failed offloads, 5 committed offloads: 17 requests, 8 attempts.
    expect(handlerSignals(new Map([['h', r(100, 40, 10)]]), [r(112, 45, 13)])).toEqual([{ id: 'h', requests: 17, attempts: 8, reexecuted: 3, retried: 0, localMs: 9, offloadMs: 11, controllable: true }]);
    // A handler seen for the first time has no period yet.
    expect(handlerSignals(new Map(), [r(1, 1, 1)])).toEqual([]);
  });
});
