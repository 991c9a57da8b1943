/**
 * Prometheus exposition of the agent's state (`GET /metrics`). Everything is read from
 * `control.getState()` when scraped (collect-on-scrape), so the request path never touches
 * prom-client. A private Registry keeps our series out of the app's own default registry.
 * Names are documented in docs/metrics.md.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AgentControl, AgentState, HandlerStats } from '../state';

export interface MetricsOptions {
  /** Also export prom-client's default process metrics (CPU, memory, GC, event loop). Default false. */
  defaultMetrics?: boolean;
}

export interface AgentMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** Renders the exposition text (reads the state once). */
  render(): Promise<string>;
}

/** The ratio a handler's requests see, from its mode, phase and its own ratio (else the global one). */
export function effectiveRatio(h: HandlerStats, globalRatio: number): number {
  if (h.mode === 'off' || h.phase === 'blocked' || h.phase === 'held') return 0;
  if (h.mode === 'always') return 1;
  return h.phase === 'live' ? (h.ratio ?? globalRatio) : 0;
}

const kPhases = ['candidate', 'shadow', 'live', 'held', 'blocked'] as const;
const kModes = ['auto', 'off', 'always'] as const;
const kWorkerStates = ['idle', 'busy', 'starting'] as const;

export function createMetrics(control: Pick<AgentControl, 'getState'>, options: MetricsOptions = {}): AgentMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  // One getState per scrape: every collector reads the snapshot taken by the first one.
  let snapshot: AgentState | undefined;
  const state = (): AgentState => (snapshot ??= control.getState());
  const registers = [registry];

  function counter(name: string, help: string, labelNames: string[], fill: (c: Counter<string>, s: AgentState) => void): void {
    new Counter({ name, help, labelNames, registers, collect() { this.reset(); fill(this, state()); } });
  }
  function gauge(name: string, help: string, labelNames: string[], fill: (g: Gauge<string>, s: AgentState) => void): void {
    new Gauge({ name, help, labelNames, registers, collect() { this.reset(); fill(this, state()); } });
  }
  const perHandler = (pick: (h: HandlerStats) => number) => (c: Counter<string>, s: AgentState) => {
    for (const h of s.handlers) c.inc({ handler: h.id }, pick(h));
  };

  gauge('beehive_info', 'Agent mode and platform (always 1)', ['mode', 'platform'], (g, s) => g.set({ mode: s.mode, platform: s.platform }, 1));
  gauge('beehive_start_time_seconds', 'When the agent started, seconds since the epoch', [], (g, s) => g.set(Date.parse(s.startedAt) / 1000 || 0));
  gauge('beehive_offload_ratio', 'Global offloading ratio, 0..1', [], (g, s) => g.set(s.ratio));
  gauge('beehive_slo_seconds', 'Latency objective the controller steers to', [], (g, s) => g.set(s.sloMs / 1000));
  counter('beehive_requests_total', 'Requests by handler and where they ran', ['handler', 'where'], (c, s) => {
    for (const h of s.handlers) {
      c.inc({ handler: h.id, where: 'local' }, h.local);
      c.inc({ handler: h.id, where: 'offloaded' }, h.offloaded);
      c.inc({ handler: h.id, where: 'shadow' }, h.shadow);
    }
  });
  counter('beehive_fallbacks_total', 'Fallbacks (remote fetches) served to workers', ['handler'], perHandler((h) => h.fallbacks));
  counter('beehive_failures_total', 'Failed offloaded invocations', ['handler'], perHandler((h) => h.failures));
  counter('beehive_reexecuted_total', 'Offloaded requests run again on the server', ['handler'], perHandler((h) => h.reexecuted));
  gauge('beehive_handler_ratio', 'Effective offloading ratio of a handler (mode, phase and global ratio)', ['handler'],
    (g, s) => { for (const h of s.handlers) g.set({ handler: h.id }, effectiveRatio(h, s.ratio)); });
  gauge('beehive_handler_selected', '1 when the handler is selected for offloading', ['handler'], (g, s) => {
    for (const h of s.handlers) g.set({ handler: h.id }, h.selected ? 1 : 0);
  });
  gauge('beehive_handler_phase', '1 for the phase the handler is in', ['handler', 'phase'], (g, s) => {
    for (const h of s.handlers) for (const p of kPhases) g.set({ handler: h.id, phase: p }, h.phase === p ? 1 : 0);
  });
  gauge('beehive_handler_mode', '1 for the mode the handler is set to', ['handler', 'mode'], (g, s) => {
    for (const h of s.handlers) for (const m of kModes) g.set({ handler: h.id, mode: m }, h.mode === m ? 1 : 0);
  });
  gauge('beehive_handler_offloadable', '0 when the handler cannot be offloaded (see the dashboard for why)', ['handler'], (g, s) => {
    for (const h of s.handlers) g.set({ handler: h.id }, h.reason ? 0 : 1);
  });
  counter('beehive_handler_profile_seconds_total', 'Accumulated wall time of local runs', ['handler'], perHandler((h) => h.profile.totalMs / 1000));
  counter('beehive_handler_cpu_seconds_total', 'CPU time attributed to the handler by the sampling profiler', ['handler'], perHandler((h) => h.profile.cpuSelfMs / 1000));
  gauge('beehive_handler_duration_seconds', 'Handler latency quantiles by where it ran', ['handler', 'where', 'quantile'], (g, s) => {
    for (const h of s.handlers) {
      for (const where of ['local', 'offloaded'] as const) {
        const l = h.latency[where];
        if (l.count === 0) continue;
        g.set({ handler: h.id, where, quantile: '0.5' }, l.p50 / 1000);
        g.set({ handler: h.id, where, quantile: '0.99' }, l.p99 / 1000);
      }
    }
  });
  gauge('beehive_closure_bytes', 'Size of shipped closures', ['handler', 'quantile'], (g, s) => {
    for (const h of s.handlers) {
      if (h.closureBytes.count === 0) continue;
      g.set({ handler: h.id, quantile: '0.5' }, h.closureBytes.p50);
      g.set({ handler: h.id, quantile: '0.99' }, h.closureBytes.p99);
    }
  });
  counter('beehive_cost_usd_total', 'Estimated FaaS cost in USD', ['handler'], perHandler((h) => h.cost.usd));
  counter('beehive_billed_seconds_total', 'Billed FaaS duration', ['handler'], perHandler((h) => h.cost.billedMs / 1000));
  counter('beehive_gb_seconds_total', 'Billed FaaS GB-seconds', ['handler'], perHandler((h) => h.cost.gbSeconds));
  gauge('beehive_workers', 'Workers by state', ['state'], (g, s) => {
    for (const st of kWorkerStates) g.set({ state: st }, s.workers.filter((w) => w.state === st).length);
  });
  gauge('beehive_in_flight_requests', 'Requests being served now', [], (g, s) => g.set(s.totals.inFlight));
  gauge('beehive_event_loop_utilization', 'Event-loop utilisation over the last control period, 0..1', [], (g, s) => g.set(s.totals.elu));
  gauge('beehive_event_loop_delay_p99_seconds', 'Event-loop delay p99 over the last control period', [], (g, s) => g.set(s.totals.loopDelayP99 / 1000));
  gauge('beehive_request_duration_seconds', 'End-to-end latency quantiles over the last control period', ['quantile'], (g, s) => {
    g.set({ quantile: '0.5' }, s.totals.latency.p50 / 1000);
    g.set({ quantile: '0.99' }, s.totals.latency.p99 / 1000);
  });

  return {
    registry,
    contentType: registry.contentType,
    async render() {
      snapshot = undefined;
      try {
        return await registry.metrics();
      } finally {
        snapshot = undefined;
      }
    },
  };
}
