/**
 * The burst controller's decision, pure: from the last decision and one period's signals, the next
 * offloading ratio of each handler and how many workers to keep warm.
 *
 * The law (README, "The burst controller"): offloading is a trade of server time. A local run of
 * handler h costs the server's event loop c_h; an offload attempt costs it o (capture, invoke,
 * decode, replay) plus, when the attempt re-runs locally (conflict, failure), c_h again. So an
 * attempt saves g_h = s_h * c_h - o, s_h its commit rate. From the period's event-loop utilisation
 * u and the savings the period's offloads actually made, the demand D (the utilisation the server
 * would have had with nothing offloaded) follows. The server is left alone while it keeps up (ratio
 * 0 until u reaches `eluHigh`); once over, each handler gets the ratio that brings D down to
 * `targetElu`, best savings per worker-millisecond first, within what the workers can take; while
 * saturated (D unknown, a backlog is building) the ratios go to the most the workers can take,
 * which also drains the backlog. Back to 0 once D is under `releaseElu` for `calmPeriods` periods.
 */
import { updateEstimates, initialEstimates, successRate, type Estimates } from './estimate';
import { gains, holdMs, plan } from './plan';
import { ControllerErrors } from './errors';

export interface HandlerSignals {
  id: string;
  /** Requests of this handler in the period (local runs chosen, plus offload attempts). */
  requests: number;
  /** Offload attempts in the period: committed from a worker, or re-run here. */
  attempts: number;
  /** Attempts that re-ran locally (a conflict or a failure). */
  reexecuted: number;
  /**
   * Conflicting attempts run again on a worker: each costs the server one more capture and commit
   * and a worker one more run, for no extra request served.
   */
  retried?: number;
  /** Wall time of a local run, ms (median of recent runs; 0 when none ran yet). */
  localMs: number;
  /** Wall time of an offloaded request, ms: how long it holds a worker (0 when unknown). */
  offloadMs: number;
  /** The controller may set its ratio (auto mode, selected, offloadable). */
  controllable: boolean;
}

export interface ControllerSignals {
  /** Length of the period, ms. */
  periodMs: number;
  /** Event-loop utilisation over the period, 0..1. */
  elu: number;
  /** Event-loop delay p99 over the period, ms. */
  loopDelayP99Ms: number;
  /** Requests in flight at the end of the period. */
  inFlight: number;
  /** Request latency p99 (ms; 0 when unknown). Reported, not steered on: see overloadOf. */
  p99Ms: number;
  sloMs: number;
  /** Offloaded requests waiting for a worker (0 when unknown). */
  queued?: number;
  /** Most offloads the workers run at once (local: BEEHIVE_WORKERS); Infinity when unbounded. */
  workerSlots?: number;
  /** Workers starting (cold) at the end of the period. */
  workersStarting?: number;
  /** Workers started and ready (idle or busy); unknown when absent. */
  workersWarm?: number;
  handlers?: HandlerSignals[];
}

export interface DecisionOptions {
  /** Utilisation the controller sizes the ratio for while offloading (headroom for a bursty rest). Default 0.65. */
  targetElu?: number;
  /** Utilisation (over two periods) at which a server offloading nothing starts to. Default 0.9. */
  eluHigh?: number;
  /** Utilisation at which the loop counts as saturated (demand unknown). Default 0.97. */
  eluSaturated?: number;
  /** Demand under which offloading stops (after `calmPeriods`). Default 0.8. */
  releaseElu?: number;
  /** The loop saturated (ELU ≥ eluSaturated) this long counts as an overload whatever the requests explain, ms. Default 750. */
  persistMs?: number;
  /** Event-loop delay p99 that counts as saturation when the loop is also busy (ELU ≥ releaseElu), ms. Default 50. */
  maxLoopDelayMs?: number;
  /** Consecutive periods a lower ratio must be asked for before it is applied. Default 3. */
  calmPeriods?: number;
  /** A raise smaller than this is not made. Default 0.02. */
  raiseDeadband?: number;
  /** A lowering smaller than this is not made (the ratio still goes to 0 on release). Default 0.2. */
  lowerDeadband?: number;
  /** To start offloading a handler, an attempt must save at least this share of a local run, after re-runs and its own cost (to keep it, anything). Default 0.2. */
  minGain?: number;
  /** Server time per offload attempt assumed until measured, ms. Default 2. */
  offloadCostMs?: number;
  /** Share of the workers' capacity the controller plans to use. Default 0.8. */
  workerUtil?: number;
  /** Half-life of the evidence on a handler's commit rate, ms (a handler that conflicted is tried again after). Default 30000. */
  evidenceHalfLifeMs?: number;
  minRatio?: number;
  maxRatio?: number;
}

export type Action = 'raise' | 'hold' | 'lower';

export interface Decision {
  /** Share of the controllable handlers' requests to offload (what the global ratio shows). */
  ratio: number;
  /** Ratio per handler id. */
  ratios: Record<string, number>;
  /** Workers to keep warm for the offloaded share. */
  prewarm: number;
  /** Consecutive periods that asked for less than is in force. */
  calm: number;
  /** Demand over target (D / targetElu); a lower bound while saturated. */
  overload: number;
  /** Utilisation the server would have had with nothing offloaded (of what the requests explain). */
  demand: number;
  /** Utilisation the requests explain this period (ELU, less what they do not account for). */
  load: number;
  /** The period's event-loop utilisation. */
  elu: number;
  saturated: boolean;
  /** Waiting for workers asked for because of an overload (a fixed pool had none warm). */
  starting?: boolean;
  action: Action;
  why: string;
  estimates: Estimates;
}

export const kDecisionDefaults: Required<DecisionOptions> = {
  targetElu: 0.65, eluHigh: 0.9, eluSaturated: 0.97, releaseElu: 0.8, persistMs: 750, maxLoopDelayMs: 50, calmPeriods: 3,
  raiseDeadband: 0.02, lowerDeadband: 0.2, minGain: 0.2, offloadCostMs: 2, workerUtil: 0.8,
  evidenceHalfLifeMs: 30_000, minRatio: 0, maxRatio: 1,
};

export function initialDecision(options: DecisionOptions = {}): Decision {
  const o = { ...kDecisionDefaults, ...options };
  return { ratio: 0, ratios: {}, prewarm: 0, calm: 0, overload: 0, demand: 0, load: 0, elu: 0, saturated: false, action: 'hold', why: 'start', estimates: initialEstimates(o.offloadCostMs) };
}

/**
 * The share of the period the requests explain: the loop's utilisation, but no more than the
 * handlers' local runs, the requests' HTTP work and the offloads account for. What they do not
 * explain (the process waiting for a core on a busy machine, a long GC, timers) offloading does not
 * relieve, and must not set it off.
 */
export function explainedLoad(s: ControllerSignals, est: Estimates): number {
  let work = 0;
  for (const h of s.handlers ?? []) {
    work += Math.max(0, h.requests - h.attempts + h.reexecuted) * h.localMs * est.cpuShare + h.requests * est.baseMs + (h.attempts + (h.retried ?? 0)) * est.offloadCostMs;
  }
  return Math.min(s.elu, work / s.periodMs);
}

/**
 * Whether the loop is saturated (its demand is unknown: a backlog builds) and whether it is over its
 * trigger, at load u (and u0 the period before). Saturation counts at once; a load over `eluHigh`
 * only over two periods, since one period of catching up after a stall reads the same.
 */
export function overloadOf(s: ControllerSignals, u: number, o: Required<DecisionOptions>, u0 = u): { saturated: boolean; over: boolean; by: string } {
  // A long loop delay means requests wait for the loop; with an idle loop it is one long handler, which
  // offloading would not shorten. Request p99 is not used: it starts when the handler starts, after
  // that wait, and for offloaded requests it includes the worker's time.
  const delayed = s.loopDelayP99Ms >= o.maxLoopDelayMs && u >= o.releaseElu;
  const saturated = u >= o.eluSaturated || delayed;
  const by = u >= o.eluSaturated ? `load ${u.toFixed(2)}` : delayed ? `loop delay ${s.loopDelayP99Ms.toFixed(0)} ms at load ${u.toFixed(2)}` : `load ${u.toFixed(2)}`;
  return { saturated, over: saturated || (u + u0) / 2 >= o.eluHigh, by };
}

const round = (r: number): number => Math.round(r * 1000) / 1000;
/** Share of a period the loop was busy beyond what the requests explain, that counts as a stall. */
const kStallShare = 0.25;

export function decide(prev: Decision, s: ControllerSignals, options: DecisionOptions = {}): Decision {
  const o = { ...kDecisionDefaults, ...options };
  const est = updateEstimates(prev.estimates, s, o);
  const handlers = s.handlers ?? [];
  // What this period's offloads saved the server, as measured (their re-runs already are in u).
  let saved = 0;
  for (const h of handlers) saved += (h.attempts - h.reexecuted) * h.localMs * est.cpuShare - (h.attempts + (h.retried ?? 0)) * est.offloadCostMs;
  const offloading = Object.values(prev.ratios).some((r) => r > 0);
  // Offloading or not is decided on what the requests explain (they are what offloading relieves);
  // once offloading, on the loop itself, so that a misjudged offload cost cannot hide a backlog.
  const u = offloading ? s.elu : explainedLoad(s, est);
  const demand = u + saved / s.periodMs;
  const loop = overloadOf(s, u, o, prev.load);
  // Workers asked for because of an overload and not ready yet: while they boot the server may get
  // little of the machine and handle few requests, so the load they explain drops; the loop, though,
  // is still busy. The overload stands until the loop says otherwise.
  const pending = prev.starting === true && s.elu >= o.eluHigh;
  // A loop saturated on and on is an overload, whatever the requests seem to explain: a CPU-bound
  // handler on a machine that gives it part of a core, a backlog of requests being read.
  const persistent = est.saturatedMs >= o.persistMs;
  const saturated = loop.saturated || pending || persistent;
  const over = loop.over || pending || persistent;
  const by = loop.over ? loop.by : pending ? `ELU ${s.elu.toFixed(2)}, workers starting` : persistent ? `ELU ${s.elu.toFixed(2)} for ${Math.round(est.saturatedMs)} ms` : loop.by;
  const clampAll = (ratios: Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const h of handlers) if (h.controllable) out[h.id] = round(Math.min(o.maxRatio, Math.max(o.minRatio, ratios[h.id] ?? 0)));
    return out;
  };
  // Workers to keep warm for `ratios`: those its offloads keep busy, at `workerUtil`; twice that while
  // saturated (the requests served then understate the demand).
  const prewarmFor = (rs: Record<string, number>): number => {
    let workerMs = 0;
    for (const h of handlers) if (h.controllable) workerMs += h.requests * (rs[h.id] ?? 0) * holdMs(h, est);
    const busy = (workerMs / s.periodMs) * (saturated ? 2 : 1);
    return busy > 0 ? Math.min(s.workerSlots ?? Infinity, Math.ceil(busy / o.workerUtil)) : 0;
  };
  const make = (ratios: Record<string, number>, calm: number, action: Action, why: string, prewarm = prewarmFor(ratios)): Decision => {
    const rs = clampAll(ratios);
    let reqs = 0;
    let off = 0;
    for (const h of handlers) {
      if (!h.controllable) continue;
      reqs += h.requests;
      off += h.requests * rs[h.id];
    }
    const ids = Object.keys(rs);
    // No requests this period: the share shown is the handlers' mean ratio.
    const share = reqs > 0 ? off / reqs : ids.length ? ids.reduce((n, id) => n + rs[id], 0) / ids.length : 0;
    return { ratio: round(share), ratios: rs, prewarm, calm, overload: demand / o.targetElu, demand, load: u, elu: s.elu, saturated, action, why, estimates: est };
  };
  const ratioOf = (id: string): number => prev.ratios[id] ?? 0;
  // A fixed pool offloads to its warm workers only: an offload that finds none starts one more on the
  // spot (a cold start per request, booting on this machine) and waits for it. The workers the
  // demand needs are asked for (prewarm); as they get ready, the share grows.
  const slotsAll = s.workerSlots ?? Infinity;
  const slotsWarm = Number.isFinite(slotsAll) && s.workersWarm !== undefined ? Math.min(slotsAll, s.workersWarm) : slotsAll;
  const need = saturated ? Infinity : demand - o.targetElu;
  const planned = (): { ratios: Record<string, number>; prewarm: number } => {
    const p = plan(s, est, o, need, prev.ratios, slotsWarm);
    return { ratios: p.ratios, prewarm: prewarmFor(slotsWarm < slotsAll ? plan(s, est, o, need, prev.ratios, slotsAll).ratios : p.ratios) };
  };

  if (!offloading) {
    if (!over) return make({}, 0, 'hold', `${by}: the server keeps up`);
    // Busy time the requests did not explain last period (the process had no core): what looks like
    // an overload now may be the catching up. One more period decides.
    if (!pending && !persistent && prev.elu - prev.load > kStallShare) return make({}, 0, 'hold', `${by}, after a stall (ELU ${prev.elu.toFixed(2)}, load ${prev.load.toFixed(2)}): one more period`);
    const p = planned();
    if (Object.keys(p.ratios).length === 0) {
      const n = Math.max(p.prewarm, pending ? prev.prewarm : 0);
      if (n > 0) return { ...make({}, 0, 'hold', `${by}: starting ${n} workers first (none warm)`, n), starting: true };
      return make({}, 0, 'hold', `${by}, but no handler gains from offloading`);
    }
    return make(p.ratios, 0, 'raise', `${by}${saturated ? ', saturated' : ''}: demand ${demand.toFixed(2)}${slotsWarm < slotsAll ? `, ${slotsWarm} workers warm` : ''}`, p.prewarm);
  }

  // Offloading already.
  const { ratios: target, prewarm: wanted } = planned();
  // A handler whose offloads stopped paying (they re-run here, or cost more than they save) loses its share at once.
  const losing = handlers.filter((h) => h.controllable && ratioOf(h.id) > 0 && !gains(h, est, o, true)).map((h) => h.id);
  if (losing.length > 0) {
    const next: Record<string, number> = { ...prev.ratios };
    for (const id of losing) next[id] = 0;
    return make(next, 0, 'lower', `${losing.join(', ')}: offloads do not pay (commit rate ${losing.map((id) => successRate(est, id).toFixed(2)).join(', ')})`);
  }
  if (saturated) {
    // Still over after the raise: go to what the workers take. Below what is in force only when the
    // workers are seen to be the bottleneck (offloads wait, none is starting): more would only queue.
    // Offloads waiting while the loop is saturated are no such proof: a worker is free again only when
    // the loop has read its result, so the local runs that saturate the loop slow the workers too,
    // and the workers still starting are capacity on its way. There the raise goes on, to what the
    // warm workers take (the plan's bound), and lowers the loop's load that holds everything back.
    const next: Record<string, number> = { ...prev.ratios };
    const queued = s.queued ?? 0;
    const workersFull = queued > 0 && Number.isFinite(est.workerRps);
    let action: Action = 'hold';
    for (const h of handlers) {
      if (!h.controllable) continue;
      const r = ratioOf(h.id);
      const t = target[h.id] ?? 0;
      if (t > r + o.raiseDeadband && !workersFull) ((next[h.id] = t), (action = 'raise'));
      else if (workersFull && t < r - o.raiseDeadband) ((next[h.id] = t), (action = action === 'raise' ? action : 'lower'));
    }
    const why =
      action === 'raise' ? `${by}: saturated, demand at least ${demand.toFixed(2)}`
      : workersFull ? `${by}: saturated, the workers too (${queued} waiting, ${est.workerRps.toFixed(0)} offloads/s)`
      : queued > 0 ? `${by}: saturated, ${queued} offloads waiting for workers${(s.workersStarting ?? 0) > 0 ? ' (some starting)' : ''}`
      : `${by}: saturated, at what the workers take`;
    return make(next, 0, action, why, Math.max(prewarmFor(next), wanted));
  }
  if (demand <= o.releaseElu) {
    const calm = prev.calm + 1;
    if (calm < o.calmPeriods) return make(prev.ratios, calm, 'hold', `demand ${demand.toFixed(2)}: calm ${calm}/${o.calmPeriods}`);
    return make({}, 0, 'lower', `demand ${demand.toFixed(2)} under ${o.releaseElu} for ${calm} periods`);
  }
  const next: Record<string, number> = {};
  const queued = s.queued ?? 0;
  const workersFull = queued > 0 && Number.isFinite(est.workerRps);
  let raised = false;
  let lower = false;
  let cut = false;
  for (const h of handlers) {
    if (!h.controllable) continue;
    const r = ratioOf(h.id);
    const t = target[h.id] ?? 0;
    if (t > r + o.raiseDeadband && u > o.targetElu && queued === 0) ((next[h.id] = t), (raised = true));
    else if (workersFull && t < r - o.raiseDeadband) ((next[h.id] = t), (cut = true));
    else {
      next[h.id] = r;
      if (t < r - o.lowerDeadband) lower = true;
    }
  }
  // More than the workers complete only queues: down to it at once.
  if (cut) return make(next, 0, 'lower', `offloads wait for workers (${queued} waiting, ${est.workerRps.toFixed(0)} offloads/s)`);
  if (raised) return make(next, 0, 'raise', `demand ${demand.toFixed(2)} over target ${o.targetElu}`, Math.max(prewarmFor(next), wanted));
  if (!lower) return make(next, 0, 'hold', `demand ${demand.toFixed(2)}: within band`);
  const calm = prev.calm + 1;
  if (calm < o.calmPeriods) return make(next, calm, 'hold', `demand ${demand.toFixed(2)}: less is enough, calm ${calm}/${o.calmPeriods}`);
  return make(target, 0, 'lower', `demand ${demand.toFixed(2)}: less is enough for ${calm} periods`);
}

export function validateDecisionOptions(options: DecisionOptions): Required<DecisionOptions> {
  if (options === null || typeof options !== 'object') throw ControllerErrors.OPTION_TYPE('options must be an object');
  const o = { ...kDecisionDefaults, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const num = (name: keyof DecisionOptions, min: number, max: number, integer = false): void => {
    const v = o[name] as unknown;
    const message = `options.${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
    if (typeof v !== 'number' || Number.isNaN(v) || (integer && !Number.isInteger(v))) throw ControllerErrors.OPTION_TYPE(message);
    if (v < min || v > max) throw ControllerErrors.OPTION_RANGE(message);
  };
  num('targetElu', 0.05, 1);
  num('eluHigh', 0.05, 1);
  num('eluSaturated', 0.05, 1);
  num('releaseElu', 0.05, 1);
  if (!(o.releaseElu <= o.eluHigh && o.eluHigh <= o.eluSaturated)) throw ControllerErrors.OPTION_RANGE('options.releaseElu, eluHigh and eluSaturated must be in that order');
  if (o.targetElu > o.eluHigh) throw ControllerErrors.OPTION_RANGE('options.targetElu must not exceed options.eluHigh');
  num('maxLoopDelayMs', 1, 60_000);
  num('persistMs', 1, 600_000);
  num('calmPeriods', 1, 1000, true);
  num('raiseDeadband', 0, 1);
  num('lowerDeadband', 0, 1);
  num('minGain', 0, 1);
  num('offloadCostMs', 0, 10_000);
  num('workerUtil', 0.05, 1);
  num('evidenceHalfLifeMs', 1, 3_600_000);
  num('minRatio', 0, 1);
  num('maxRatio', 0, 1);
  if (o.minRatio > o.maxRatio) throw ControllerErrors.OPTION_RANGE('options.minRatio must not exceed options.maxRatio');
  return o;
}
