/**
 * The sizing half of the control law: what an offload of a handler saves the server, how long it
 * holds a worker, and the ratios that remove a given load from the server within the workers'
 * capacity (README, "The burst controller").
 */
import type { ControllerSignals, DecisionOptions, HandlerSignals } from './decide';
import { successRate, type Estimates } from './estimate';

/** Server time an offload attempt of h saves, ms: the local run it replaces when it commits, less its own cost. */
export function gainMs(h: HandlerSignals, est: Estimates): number {
  return successRate(est, h.id) * h.localMs * est.cpuShare - est.offloadCostMs;
}

/**
 * Whether offloading h pays: to start, an attempt must save at least `minGain` of a local run; a
 * handler offloaded already keeps its share while it saves anything (a cost estimate is noisy, and
 * sending a share back to a saturated server on noise is the worse mistake).
 */
export function gains(h: HandlerSignals, est: Estimates, o: Required<DecisionOptions>, offloaded: boolean): boolean {
  const c = h.localMs * est.cpuShare;
  return c > 0 && gainMs(h, est) >= (offloaded ? 0 : o.minGain * c);
}

/**
 * How long an offload of h holds a worker, ms: as measured, but no more than twice a local run plus
 * the round trips. Cold starts inflate the measure; a worker that is really slower shows as offloads
 * waiting for workers, which bounds the ratio by what they complete instead.
 */
export function holdMs(h: HandlerSignals, est: Estimates): number {
  const warm = 2 * h.localMs + 2 * est.offloadCostMs;
  return h.offloadMs > 0 ? Math.min(h.offloadMs, warm) : h.localMs + 2 * est.offloadCostMs;
}

export interface Plan {
  ratios: Record<string, number>;
  /** Worker-ms per second the plan uses. */
  workerMsPerS: number;
}

/**
 * Per handler the ratio that removes `need` (utilisation) from the server, best savings per worker
 * millisecond first, each within the workers' remaining capacity. `need` Infinity: as much as they take.
 */
export function plan(s: ControllerSignals, est: Estimates, o: Required<DecisionOptions>, need: number, inForce: Record<string, number>, slots: number): Plan {
  const seconds = s.periodMs / 1000;
  // Two bounds on the offloaded share: the slots' time (each offload holds one), and the rate the
  // workers were seen to complete while offloads waited for them.
  const workerMs = slots * 1000 * o.workerUtil;
  const workerRps = est.workerRps * o.workerUtil;
  const cands = [];
  for (const h of s.handlers ?? []) {
    if (!h.controllable || h.requests <= 0 || !gains(h, est, o, (inForce[h.id] ?? 0) > 0)) continue;
    const gain = gainMs(h, est);
    cands.push({ id: h.id, rate: h.requests / seconds, gain, hold: holdMs(h, est) });
  }
  cands.sort((p, q) => q.gain / q.hold - p.gain / p.hold || (p.id < q.id ? -1 : 1));
  const ratios: Record<string, number> = {};
  let left = need;
  let used = 0;
  let rps = 0;
  for (const h of cands) {
    if (left <= 0) break;
    let r = Math.min(o.maxRatio, (left * 1000) / (h.rate * h.gain));
    if (Number.isFinite(workerMs)) r = Math.min(r, Math.max(0, workerMs - used) / (h.rate * h.hold));
    if (Number.isFinite(workerRps)) r = Math.min(r, Math.max(0, workerRps - rps) / h.rate);
    if (!(r > 0)) continue;
    ratios[h.id] = r;
    used += r * h.rate * h.hold;
    rps += r * h.rate;
    left -= (r * h.rate * h.gain) / 1000;
  }
  return { ratios, workerMsPerS: used };
}

