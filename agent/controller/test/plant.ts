/**
 * A simulated server for the controller's tests, written apart from the controller: handlers with a
 * fixed event-loop cost per local run, a per-request HTTP cost, a server cost per offload, and
 * conflicts that re-run an offload locally. A period's work beyond the period is carried over as a
 * backlog (the loop is then saturated: ELU 1, a long loop delay). It knows nothing of how the
 * controller estimates or decides; it only answers "what would the server measure at these ratios".
 */
import { decide, initialDecision, type ControllerSignals, type Decision, type DecisionOptions, type HandlerSignals } from '../index';

export interface PlantHandler {
  id: string;
  /** Event-loop ms per local run. */
  ms: number;
  /** Wall time of a local run as the agent measures it (longer than ms when it awaits I/O). Default ms. */
  wallMs?: number;
  /** Arrivals per second in period i. */
  rate: (i: number) => number;
  /** Share of offloads that conflict and re-run locally. */
  conflict?: number;
  controllable?: boolean;
}

export interface PlantOptions {
  handlers: PlantHandler[];
  /** Server ms per request outside the handler. Default 0.5. */
  baseMs?: number;
  /** Server ms per offload attempt. Default 2. */
  offloadMs?: number;
  periodMs?: number;
  slots?: number;
  /** Multiplies each period's ELU (measurement noise), given the period. */
  noise?: (i: number) => number;
}

export interface Row {
  i: number;
  elu: number;
  backlog: number;
  signals: ControllerSignals;
  decision: Decision;
}

export function simulate(p: PlantOptions, periods: number, options: DecisionOptions = {}, start: Decision = initialDecision(options)): Row[] {
  const period = p.periodMs ?? 250;
  const base = p.baseMs ?? 0.5;
  const off = p.offloadMs ?? 2;
  const backlog = new Map<string, number>(p.handlers.map((h) => [h.id, 0]));
  let d = start;
  const rows: Row[] = [];
  for (let i = 0; i < periods; i++) {
    const queue = p.handlers.map((h) => ({ h, n: backlog.get(h.id)! + (h.rate(i) * period) / 1000, r: d.ratios[h.id] ?? 0 }));
    let work = 0;
    for (const { h, n, r } of queue) work += n * (base + (1 - r) * h.ms + r * (off + (h.conflict ?? 0) * h.ms));
    const served = work > period ? period / work : 1;
    const elu = Math.min(1, (work / period) * (p.noise?.(i) ?? 1));
    const handlers: HandlerSignals[] = queue.map(({ h, n, r }) => {
      backlog.set(h.id, n * (1 - served));
      const done = n * served;
      const attempts = done * r;
      const reexecuted = attempts * (h.conflict ?? 0);
      return { id: h.id, requests: done, attempts, reexecuted, localMs: h.wallMs ?? h.ms, offloadMs: (h.wallMs ?? h.ms) + 1, controllable: h.controllable ?? true };
    });
    const left = [...backlog.values()].reduce((a, b) => a + b, 0);
    const signals: ControllerSignals = {
      periodMs: period,
      elu,
      loopDelayP99Ms: left > 0.5 ? 150 : 4,
      inFlight: Math.round(left),
      p99Ms: 0,
      sloMs: 100,
      queued: 0,
      workerSlots: p.slots ?? 32,
      workersStarting: 0,
      handlers,
    };
    d = decide(d, signals, options);
    rows.push({ i, elu, backlog: left, signals, decision: d });
  }
  return rows;
}

/** Periods in which some handler's ratio changed. */
export function changes(rows: Row[], id: string): number {
  let n = 0;
  for (let i = 1; i < rows.length; i++) if ((rows[i].decision.ratios[id] ?? 0) !== (rows[i - 1].decision.ratios[id] ?? 0)) n++;
  return n;
}
