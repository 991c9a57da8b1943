/**
 * From the agent's cumulative per-handler counters to one period's signals (differences between two
 * readings). A handler seen for the first time gives none: its counters hold its whole history.
 */
import type { HandlerSignals } from './decide';

export interface HandlerReading {
  id: string;
  /** Runs on the server so far, re-runs of failed offloads included. */
  local: number;
  /** Offloads committed from workers so far. */
  offloaded: number;
  /** Offload attempts that re-ran on the server so far. */
  reexecuted: number;
  /** Conflicting attempts that ran again on a worker so far (each one more capture, commit and worker run). */
  retried?: number;
  /** Wall time of a local run, ms (median of recent runs). */
  localMs: number;
  /** Wall time of an offloaded request, ms (median of recent ones; 0 when none yet). */
  offloadMs: number;
  controllable: boolean;
}

const delta = (now: number, before: number): number => Math.max(0, now - before);

export function handlerSignals(prev: ReadonlyMap<string, HandlerReading>, now: readonly HandlerReading[]): HandlerSignals[] {
  const out: HandlerSignals[] = [];
  for (const h of now) {
    const p = prev.get(h.id);
    if (!p) continue;
    const local = delta(h.local, p.local);
    const offloaded = delta(h.offloaded, p.offloaded);
    // A re-run is one of the local runs: never more re-runs than local runs in a period.
    const reexecuted = Math.min(local, delta(h.reexecuted, p.reexecuted));
    out.push({
      id: h.id,
      requests: local + offloaded,
      attempts: offloaded + reexecuted,
      reexecuted,
      retried: delta(h.retried ?? 0, p.retried ?? 0),
      localMs: h.localMs,
      offloadMs: h.offloadMs,
      controllable: h.controllable,
    });
  }
  return out;
}
