/**
 * The shape of the agent's observable state (docs/DESIGN.md §5): served by the admin API as
 * `GET /api/state`, written to `BEEHIVE_STATS_FILE` at exit, and read by the dashboard and the
 * Prometheus exporter. Changing a field name here is a breaking change for operators.
 */
export type AgentMode = 'auto' | 'manual' | 'always' | 'off';
export type HandlerMode = 'auto' | 'off' | 'always';
export type Platform = 'local' | 'lambda' | 'openwhisk';

/** Where a handler stands in its offload lifecycle. */
export type HandlerPhase = 'candidate' | 'shadow' | 'live' | 'held' | 'blocked';

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
}

/** Request counters, per handler and summed over all handlers in the totals. */
export interface RequestCounters {
  local: number;
  offloaded: number;
  shadow: number;
  fallbacks: number;
  /** Offloads that failed (by kind in `failuresByKind`); each request then ran locally. */
  failures: number;
  /** Offloaded requests run again on the server: failures, conflicts, refusals after a run, errors being verified. */
  reexecuted: number;
  /**
   * Offload attempts whose commit was refused for newer server state (an object they read changed,
   * a value they overwrote changed) or chosen as a deadlock's victim; by reason in
   * `conflictsByReason`. Each ran again: on a worker (`retried`) or, past the retries, here.
   */
  conflicts: number;
  /** Conflicting offload attempts run again on a worker, with their objects captured afresh. */
  retried: number;
  /** Shadow runs whose result differed from the local run's, and offloaded runs ending in an error the local re-run did not reproduce: the handler is held local. */
  diverged: number;
  /** Offload attempts refused with a reason (the request ran here, the handler stays local). */
  refused: number;
}

/** A fixed-bucket latency histogram: cumulative counts per bound of `durationBuckets` (last: +Inf). */
export interface HistogramCounts {
  cumulative: number[];
  /** Seconds. */
  sum: number;
  count: number;
}

/** Billed FaaS time and its estimated price. */
export interface CostTotals {
  billedMs: number;
  gbSeconds: number;
  usd: number;
}

export interface HandlerStats extends RequestCounters {
  /** `conflicts` by reason: `read`, `write`, `deadlock`. */
  conflictsByReason: Record<string, number>;
  /** Stable id, e.g. `GET /topics/:id`. */
  id: string;
  method: string;
  route: string;
  mode: HandlerMode;
  phase: HandlerPhase;
  /** Picked by the profiler (auto mode) or named in BEEHIVE_ROUTES. */
  selected: boolean;
  /** The handler's own ratio, set by the burst controller; absent: the global ratio applies. */
  ratio?: number;
  /** Why the handler is not offloadable, when it is not. */
  reason?: string;
  /** Profile: accumulated and mean wall time and CPU self time of local runs, in ms. */
  profile: { count: number; totalMs: number; meanMs: number; cpuSelfMs: number };
  latency: { local: LatencySummary; offloaded: LatencySummary };
  /** Request durations, for aggregatable metrics (bounds in `AgentState.durationBuckets`). */
  histogram?: { local: HistogramCounts; offloaded: HistogramCounts };
  /** Failed offloads by kind: the provider's (timeout, crash, throttled...) or the error's area (channel, worker...). */
  failuresByKind?: Record<string, number>;
  /** Last shadow mismatch, shown by the dashboard. */
  shadowDiff?: { at: string; paths: string[]; local: unknown; offloaded: unknown };
  /** A shadow run of this handler is under way. */
  shadowInFlight?: boolean;
  cost: CostTotals;
  closureBytes: LatencySummary;
  /** Closure capture time of offloaded runs, in ms. */
  capture: LatencySummary;
}

export interface WorkerStats {
  id: string;
  state: 'idle' | 'busy' | 'starting';
  invocations: number;
  pid?: number;
}

export interface AgentTotals extends RequestCounters {
  requests: number;
  inFlight: number;
  /** Workers running an invocation now: busy local processes, or FaaS invocations in flight. */
  workersBusy?: number;
  /** FaaS (or local pool) invocations, and how many of them started a new instance. */
  invocations?: number;
  coldStarts?: number;
  /** Failed offloads by kind, summed over the handlers. */
  failuresByKind?: Record<string, number>;
  /** Offloaded requests waiting for a free worker (local platform). */
  queued?: number;
  /** Event-loop utilisation of the server, 0..1, over the last control period. */
  elu: number;
  /** Event-loop delay p99 in ms over the last control period. */
  loopDelayP99: number;
  /** End-to-end latency of all requests over the last control period. */
  latency: LatencySummary;
  cost: CostTotals;
}

export interface AgentState {
  mode: AgentMode;
  ratio: number;
  platform: Platform;
  sloMs: number;
  startedAt: string;
  handlers: HandlerStats[];
  workers: WorkerStats[];
  totals: AgentTotals;
  /** Where the admin API and dashboard listen, when they do. */
  adminUrl?: string;
  /** Upper bounds in seconds of the `histogram` buckets of every handler. */
  durationBuckets?: readonly number[];
  /** The product version. */
  version?: string;
  /** Ratio and mode changes, latest last (who, when, from where). */
  events?: ControlEvent[];
  /** Locks and contended objects since start (README "Consistency"). */
  contention?: ContentionStats;
}

export interface ContentionStats {
  /** Objects that became hot (locked at first touch instead of shipped inline), and how often they were heated. */
  heated: number;
  heatings: number;
  /** Lock requests (beehive.lock keys and hot objects) that had to wait, and those refused as deadlocks. */
  lockWaits: number;
  deadlocks: number;
  /** Locks held or waited for now. */
  locksNow: number;
}

/** One change of the ratio or of a mode, as the event log of the dashboard shows it. */
export interface ControlEvent {
  at: string;
  what: 'ratio' | 'handler-mode' | 'start';
  /** e.g. 0.4, or 'always' for a handler. */
  value: number | string;
  from?: number | string;
  handler?: string;
  /** 'admin' (the API, with the token), 'controller', 'configure', 'env'. */
  by: string;
  /** The admin client's address, when the change came through the API. */
  remote?: string;
}

/** Who asked for a change, for the event log. */
export interface ChangeSource {
  by: string;
  remote?: string;
}

/** What the admin API, the dashboard and the controller may do to a running agent. */
export interface AgentControl {
  getState(): AgentState;
  /** Sets the global ratio (0..1). In auto mode the controller takes over again at its next period. */
  setRatio(ratio: number, source?: ChangeSource): void;
  /** Returns false for an unknown handler id. */
  setHandlerMode(id: string, mode: HandlerMode, source?: ChangeSource): boolean;
}
