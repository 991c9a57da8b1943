/**
 * The burst controller's decision, pure: from the last decision and this period's signals, the next
 * offloading ratio and how many workers to keep warm.
 *
 * Overload is the worst of the server's saturation signals measured against their targets (1 = at
 * target). Above 1 the ratio jumps in one period to the value that brings the local load back under
 * target with headroom — assuming local load scales with (1 - ratio) — instead of creeping up. Below
 * `calmBelow` for `calmPeriods` periods it steps down, never further than the prediction says is
 * safe, so a steady load at the boundary holds still instead of oscillating.
 */
export interface ControllerSignals {
  /** Event-loop utilisation over the period, 0..1. */
  elu: number;
  /** Event-loop delay p99 over the period, ms. */
  loopDelayP99Ms: number;
  /** Requests in flight at the end of the period. */
  inFlight: number;
  /** Request latency p99 over the period, ms (0 when unknown). */
  p99Ms: number;
  sloMs: number;
  /** Offloaded requests waiting for a worker (0 when unknown). */
  queued?: number;
}

export interface DecisionOptions {
  /** ELU the server should run at. Default 0.7. */
  targetElu?: number;
  /** Event-loop delay p99 that counts as saturated, ms. Default 50. */
  maxLoopDelayMs?: number;
  /** In-flight requests that count as saturated. Default Infinity (not used). */
  maxInFlight?: number;
  /** Aim below target by this factor when raising. Default 0.15. */
  headroom?: number;
  /** Overload under which a period is calm. Default 0.75. */
  calmBelow?: number;
  /** Calm periods before each step down. Default 3. */
  calmPeriods?: number;
  /** Largest step down of the ratio. Default 0.1. */
  stepDown?: number;
  minRatio?: number;
  maxRatio?: number;
  /** Requests one worker serves at a time. Default 1 (a FaaS instance serves one). */
  workerConcurrency?: number;
}

export type Action = 'raise' | 'hold' | 'lower';

export interface Decision {
  ratio: number;
  /** Workers to keep warm for the offloaded share. */
  prewarm: number;
  /** Consecutive calm periods so far. */
  calm: number;
  overload: number;
  action: Action;
  why: string;
}

export const kDecisionDefaults: Required<DecisionOptions> = {
  targetElu: 0.7, maxLoopDelayMs: 50, maxInFlight: Infinity, headroom: 0.15, calmBelow: 0.75,
  calmPeriods: 3, stepDown: 0.1, minRatio: 0, maxRatio: 1, workerConcurrency: 1,
};

export function initialDecision(ratio = 0): Decision {
  return { ratio, prewarm: 0, calm: 0, overload: 0, action: 'hold', why: 'start' };
}

/** Overload per signal; latency counts only when the loop is busy, since offloading more cannot fix a slow database. */
export function overloadOf(s: ControllerSignals, o: Required<DecisionOptions>): { overload: number; by: string } {
  const elu = s.elu / o.targetElu;
  const parts: Array<[string, number]> = [
    ['elu', elu],
    ['loop delay', s.loopDelayP99Ms / o.maxLoopDelayMs],
    ['in flight', Number.isFinite(o.maxInFlight) ? s.inFlight / o.maxInFlight : 0],
    // Latency says "too slow", not by how much the server is over: it includes time offloaded
    // requests spend on workers. It may at most double what the loop's own load asks for.
    ['p99', s.sloMs > 0 && s.p99Ms > 0 && elu >= o.calmBelow ? Math.min(s.p99Ms / s.sloMs, 2 * elu) : 0],
  ];
  let best: [string, number] = ['elu', 0];
  for (const p of parts) if (Number.isFinite(p[1]) && p[1] > best[1]) best = p;
  return { overload: best[1], by: best[0] };
}

const round = (r: number): number => Math.round(r * 1000) / 1000;

export function decide(prev: Decision, s: ControllerSignals, options: DecisionOptions = {}): Decision {
  const o = { ...kDecisionDefaults, ...options };
  const r = Math.min(o.maxRatio, Math.max(o.minRatio, prev.ratio));
  const { overload, by } = overloadOf(s, o);
  const aim = 1 / (1 + o.headroom);
  const prewarmFor = (ratio: number): number =>
    ratio <= 0 ? 0 : Math.ceil((Math.max(1, s.inFlight) * ratio * (1 + o.headroom)) / o.workerConcurrency);
  const make = (ratio: number, calm: number, action: Action, why: string): Decision =>
    ({ ratio: round(ratio), prewarm: prewarmFor(ratio), calm, overload, action, why });

  if (overload > 1 && (s.queued ?? 0) > 0) {
    // Offloaded requests already wait for workers: more offloading would only lengthen that queue.
    return make(r, 0, 'hold', `${by} at ${overload.toFixed(2)}x target, but ${s.queued} offloaded requests wait for workers`);
  }
  if (overload > 1) {
    // Total demand relative to target is overload / (1 - r); offload enough that the rest sits at `aim`.
    const next = r >= 1 ? 1 : 1 - ((1 - r) * aim) / overload;
    const ratio = Math.min(o.maxRatio, Math.max(r, next));
    return make(ratio, 0, ratio > r ? 'raise' : 'hold', `${by} at ${overload.toFixed(2)}x target`);
  }
  if (overload >= o.calmBelow) return make(r, 0, 'hold', `${by} at ${overload.toFixed(2)}x target: within band`);
  const calm = prev.calm + 1;
  if (r <= o.minRatio || calm < o.calmPeriods) return make(r, r <= o.minRatio ? 0 : calm, 'hold', `calm ${calm}/${o.calmPeriods}`);
  // Step down, but only as far as the predicted local load stays under `aim`.
  const safe = r >= 1 ? r - o.stepDown : 1 - ((1 - r) * aim) / Math.max(overload, 1e-9);
  const ratio = Math.max(o.minRatio, r - o.stepDown, Math.min(r, safe));
  if (ratio >= r) return make(r, calm, 'hold', 'calm, but a step down would overload');
  return make(ratio, 0, 'lower', `calm for ${calm} periods`);
}

export function validateDecisionOptions(options: DecisionOptions): Required<DecisionOptions> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const o = { ...kDecisionDefaults, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const num = (name: keyof DecisionOptions, min: number, max: number, integer = false): void => {
    const v = o[name] as unknown;
    const message = `options.${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
    if (typeof v !== 'number' || Number.isNaN(v) || (integer && v !== Infinity && !Number.isInteger(v))) throw new TypeError(message);
    if (v < min || v > max) throw new RangeError(message);
  };
  num('targetElu', 0.05, 1);
  num('maxLoopDelayMs', 1, 60_000);
  num('maxInFlight', 1, Infinity, true);
  num('headroom', 0, 1);
  num('calmBelow', 0, 1);
  num('calmPeriods', 1, 1000, true);
  num('stepDown', 0.001, 1);
  num('minRatio', 0, 1);
  num('maxRatio', 0, 1);
  if (o.minRatio > o.maxRatio) throw new RangeError('options.minRatio must not exceed options.maxRatio');
  num('workerConcurrency', 1, 10_000, true);
  return o;
}
