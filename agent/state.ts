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
  failures: number;
  reexecuted: number;
}

/** Billed FaaS time and its estimated price. */
export interface CostTotals {
  billedMs: number;
  gbSeconds: number;
  usd: number;
}

export interface HandlerStats extends RequestCounters {
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
}

/** What the admin API, the dashboard and the controller may do to a running agent. */
export interface AgentControl {
  getState(): AgentState;
  /** Sets the global ratio (0..1). In auto mode the controller takes over again at its next period. */
  setRatio(ratio: number): void;
  /** Returns false for an unknown handler id. */
  setHandlerMode(id: string, mode: HandlerMode): boolean;
}
