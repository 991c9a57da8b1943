/**
 * What the controller learns about costs, period after period, from what it can measure without
 * touching the request path: the event loop's busy time (ELU × period) against the handlers' local
 * runs and offload attempts, the commit rate of each handler's offloads, and what the workers
 * completed while requests waited for them.
 *
 *   busy ≈ cpuShare · Σ localRuns·localMs  +  baseMs · requests  +  offloadCostMs · attempts
 *
 * A local run's wall time is its event-loop time for a handler that does not wait on I/O (cpuShare
 * 1); when the loop was busy for less than the local runs' wall time, the handlers wait and cpuShare
 * scales them down. Periods with few offloads calibrate cpuShare and baseMs, periods with many the
 * offload cost; saturated periods (busy capped at the period) teach nothing.
 */
import type { ControllerSignals, DecisionOptions } from './decide';

export interface Estimates {
  /** Server (event-loop) time per offload attempt beyond the request's own HTTP work, ms. */
  offloadCostMs: number;
  /** Server time per request outside the handlers (HTTP parsing, routing, the response), ms. */
  baseMs: number;
  /** Share of a local run's wall time the event loop is busy, 0..1. */
  cpuShare: number;
  /** Offloads per second the workers completed while offloads waited for them; Infinity until seen. */
  workerRps: number;
  /** Per handler: committed and tried offload attempts, decayed with time. */
  commits: Record<string, { ok: number; tried: number }>;
  /** Offloads waiting for workers at the end of the last period. */
  lastQueued: number;
  /** Consecutive saturated periods so far, and their length in ms. */
  saturatedRun: number;
  saturatedMs: number;
}

/** Pseudo-attempts, all committed, before any evidence: a handler is offloadable until shown otherwise. */
const kPrior = 2;
const kAlpha = 0.3;
/** Weight of a new value above the estimate, for the costs that noise only adds to. */
const kSlowUp = 0.05;

export function initialEstimates(offloadCostMs: number): Estimates {
  return { offloadCostMs, baseMs: 0, cpuShare: 1, workerRps: Infinity, commits: {}, lastQueued: 0, saturatedRun: 0, saturatedMs: 0 };
}

/** Share of a handler's offload attempts that commit (the rest re-run on the server). */
export function successRate(est: Estimates, id: string): number {
  const e = est.commits[id];
  return e ? (e.ok + kPrior) / (e.tried + kPrior) : 1;
}

const ewma = (prev: number, x: number, alpha = kAlpha): number => prev + alpha * (x - prev);

export function updateEstimates(prev: Estimates, s: ControllerSignals, o: Required<DecisionOptions>): Estimates {
  const est: Estimates = { ...prev, commits: {} };
  if (!(s.periodMs > 0)) return { ...est, commits: { ...prev.commits } };
  const keep = 0.5 ** (s.periodMs / o.evidenceHalfLifeMs);
  for (const [id, e] of Object.entries(prev.commits)) {
    if (e.tried * keep >= 0.05) est.commits[id] = { ok: e.ok * keep, tried: e.tried * keep };
  }
  let requests = 0;
  let attempts = 0;
  let localWall = 0;
  for (const h of s.handlers ?? []) {
    requests += h.requests;
    // Retries hold workers too: the capacity the workers showed includes them.
    attempts += h.attempts + (h.retried ?? 0);
    localWall += Math.max(0, h.requests - h.attempts + h.reexecuted) * h.localMs;
    if (h.attempts > 0) {
      const e = est.commits[h.id] ?? { ok: 0, tried: 0 };
      est.commits[h.id] = { ok: e.ok + (h.attempts - h.reexecuted), tried: e.tried + h.attempts };
    }
  }
  const seconds = s.periodMs / 1000;
  const starting = (s.workersStarting ?? 0) > 0;
  // Workers are the bottleneck only when offloads wait while none is starting (a cold start is not
  // capacity) and the loop is not saturated (a busy loop takes their results late: a slot is free
  // only once the server has read its result), or the wait grows period after period.
  const queued = s.queued ?? 0;
  est.lastQueued = queued;
  const growing = prev.lastQueued > 0 && queued > prev.lastQueued;
  if (queued > 0 && !starting && (s.elu < o.eluSaturated || growing) && attempts > 0) {
    const rps = attempts / seconds;
    est.workerRps = Number.isFinite(prev.workerRps) ? ewma(prev.workerRps, rps) : rps;
  } else if (Number.isFinite(prev.workerRps)) {
    // Capacity comes back (workers warmed, the machine quieter): forget the bound, doubling every 10 s.
    const grown = Math.max(prev.workerRps * 2 ** (s.periodMs / 10_000), attempts / seconds);
    est.workerRps = grown > 1e6 ? Infinity : grown;
  }
  est.saturatedRun = s.elu >= o.eluSaturated ? prev.saturatedRun + 1 : 0;
  est.saturatedMs = s.elu >= o.eluSaturated ? prev.saturatedMs + s.periodMs : 0;
  if (requests <= 0) return est;
  const busy = s.elu * s.periodMs;
  const manyOffloads = attempts >= 5 && attempts > 0.1 * requests;
  if (s.elu >= o.eluSaturated) {
    // A saturated loop's busy time is capped, and one such period may be the machine, not the
    // requests. Saturated on and on while offloading, though, is the requests' work: the offload cost
    // is what the rest of the period holds (the way up when it was misjudged low).
    // Not while workers start: booting them takes the machine's time, not the requests'.
    if (est.saturatedRun >= 2 && manyOffloads && !starting && (s.queued ?? 0) === 0) {
      const cost = (busy - est.cpuShare * localWall - est.baseMs * requests) / attempts;
      if (cost > prev.offloadCostMs) est.offloadCostMs = ewma(prev.offloadCostMs, Math.min(1000, cost), kSlowUp);
    }
    return est;
  }
  if (attempts <= 0.1 * requests && localWall > 0) {
    const rest = busy - attempts * prev.offloadCostMs;
    if (rest >= localWall) {
      est.cpuShare = ewma(prev.cpuShare, 1);
      // Slow up, quick down: what the requests do not explain is mostly the machine (no core, GC), and
      // a cost per request that soaks it up would make every stall look like demand.
      const x = (rest - localWall) / requests;
      est.baseMs = ewma(prev.baseMs, x, x > prev.baseMs ? kSlowUp : kAlpha);
    } else {
      est.cpuShare = ewma(prev.cpuShare, Math.max(0.05, rest / localWall));
      est.baseMs = ewma(prev.baseMs, 0);
    }
  } else if (manyOffloads && !starting) {
    // Slow up, quick down, as the cost per request: a busy machine only ever adds to it.
    const cost = Math.min(1000, Math.max(0, (busy - est.cpuShare * localWall - est.baseMs * requests) / attempts));
    est.offloadCostMs = ewma(prev.offloadCostMs, cost, cost > prev.offloadCostMs ? kSlowUp : kAlpha);
  }
  if (attempts === 0) {
    // Unmeasured, the cost drifts back to the assumed one: a cost misjudged high (measured while the
    // machine was busy with something else) would otherwise keep offloading off for good.
    est.offloadCostMs = o.offloadCostMs + (est.offloadCostMs - o.offloadCostMs) * keep;
  }
  return est;
}
