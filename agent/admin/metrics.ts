/**
 * Prometheus exposition of the agent's state (`GET /metrics`). Everything is read from
 * `control.getState()` when scraped (collect-on-scrape), so the request path never touches
 * prom-client: it only bumps the agent's own fixed-bucket histograms. A private Registry keeps our
 * series out of the app's own default registry. Names are documented in docs/metrics.md.
 *
 * Built to be aggregated across servers: handlers are labelled `method` and `route` (the route
 * pattern, never a URL), latency is a histogram with fixed buckets (sum the buckets, then
 * histogram_quantile), counts are counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValueWithName } from 'prom-client';
import type { AgentControl, AgentState, HandlerStats, HistogramCounts } from '../state';

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

type Labels = Record<string, string | number>;
type HistogramValue = { labels: Labels; value: number; metricName: string };

/**
 * A prom-client Histogram whose values come from the state's bucket counts at scrape time (the
 * agent counts on the request path; prom-client only formats). `get()` is the method the registry
 * reads a metric through.
 */
class StateHistogram extends Histogram<string> {
  private readonly metricName: string;
  private readonly helpText: string;
  constructor(
    config: { name: string; help: string; labelNames: string[]; registers: Registry[]; buckets: number[] },
    private readonly fill: () => Array<{ labels: Labels; counts: HistogramCounts }>,
    private readonly bounds: () => readonly number[],
  ) {
    super(config);
    this.metricName = config.name;
    this.helpText = config.help;
  }

  /** What the registry formats the text exposition from (prom-client prefers it to get()). */
  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return this.get();
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: HistogramValue[] = [];
    const bounds = this.bounds();
    for (const { labels, counts } of this.fill()) {
      bounds.forEach((le, i) => values.push({ labels: { ...labels, le }, value: counts.cumulative[i] ?? counts.count, metricName: `${this.metricName}_bucket` }));
      values.push({ labels: { ...labels, le: '+Inf' }, value: counts.count, metricName: `${this.metricName}_bucket` });
      values.push({ labels, value: counts.sum, metricName: `${this.metricName}_sum` });
      values.push({ labels, value: counts.count, metricName: `${this.metricName}_count` });
    }
    return { name: this.metricName, help: this.helpText, type: 'histogram', aggregator: 'sum', values } as unknown as MetricObjectWithValues<MetricValueWithName<string>>;
  }
}

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
  const hl = (h: HandlerStats) => ({ method: h.method, route: h.route });
  const perHandler = (pick: (h: HandlerStats) => number) => (c: Counter<string>, s: AgentState) => {
    for (const h of s.handlers) c.inc(hl(h), pick(h));
  };
  const H = ['method', 'route'];

  gauge('beehive_info', 'Agent mode, platform and version (always 1)', ['mode', 'platform', 'version'], (g, s) => g.set({ mode: s.mode, platform: s.platform, version: s.version ?? '' }, 1));
  gauge('beehive_start_time_seconds', 'When the agent started, seconds since the epoch', [], (g, s) => g.set(Date.parse(s.startedAt) / 1000 || 0));
  gauge('beehive_offload_ratio', 'Global offloading ratio, 0..1', [], (g, s) => g.set(s.ratio));
  gauge('beehive_slo_seconds', 'Latency objective the controller steers to', [], (g, s) => g.set(s.sloMs / 1000));

  counter('beehive_requests_total', 'Requests by handler and where they ran (local, offloaded, shadow)', [...H, 'where'], (c, s) => {
    for (const h of s.handlers) {
      c.inc({ ...hl(h), where: 'local' }, h.local);
      c.inc({ ...hl(h), where: 'offloaded' }, h.offloaded);
      c.inc({ ...hl(h), where: 'shadow' }, h.shadow);
    }
  });
  new StateHistogram(
    { name: 'beehive_request_duration_seconds', help: 'Handler latency by where it ran (offloaded: end to end, invocation included)', labelNames: [...H, 'where'], registers, buckets: [1] },
    () => {
      const s = state();
      const out: Array<{ labels: Labels; counts: HistogramCounts }> = [];
      for (const h of s.handlers) {
        if (!h.histogram) continue;
        out.push({ labels: { ...hl(h), where: 'local' }, counts: h.histogram.local });
        out.push({ labels: { ...hl(h), where: 'offloaded' }, counts: h.histogram.offloaded });
      }
      return out;
    },
    () => state().durationBuckets ?? [],
  );
  counter('beehive_reexecuted_total', 'Offloaded requests run again on the server (after a failure or a conflict)', H, perHandler((h) => h.reexecuted));
  counter('beehive_conflicts_total', 'Offload attempts whose commit was refused (reason: read, write, deadlock); each ran again, on a worker while retries were left', [...H, 'reason'], (c, s) => {
    for (const h of s.handlers) {
      const reasons = Object.entries(h.conflictsByReason ?? {});
      const known = reasons.reduce((n, [, v]) => n + v, 0);
      for (const [reason, n] of reasons) c.inc({ ...hl(h), reason }, n);
      if ((h.conflicts ?? 0) > known) c.inc({ ...hl(h), reason: 'unknown' }, (h.conflicts ?? 0) - known);
    }
  });
  counter('beehive_retried_total', 'Conflicting offload attempts run again on a worker, objects captured afresh', H, perHandler((h) => h.retried ?? 0));
  counter('beehive_lock_waits_total', 'Lock requests (beehive.lock keys and hot objects) that had to wait', [], (c, s) => c.inc(s.contention?.lockWaits ?? 0));
  counter('beehive_deadlocks_total', 'Lock requests refused because waiting would have deadlocked (the requester ran again)', [], (c, s) => c.inc(s.contention?.deadlocks ?? 0));
  counter('beehive_hot_objects_total', 'Objects that became contended and were then locked at first touch instead of shipped inline', [], (c, s) => c.inc(s.contention?.heated ?? 0));
  counter('beehive_diverged_total', 'Shadow runs, or offloaded runs ending in an error, whose result differed from the local run (the handler is held local)', H, perHandler((h) => h.diverged ?? 0));
  counter('beehive_refused_total', 'Offload attempts refused with a reason (the request ran here, the handler stays local)', H, perHandler((h) => h.refused ?? 0));
  counter('beehive_failures_total', 'Failed offloads by kind (timeout, crash, throttled, channel, worker...); each ran again locally', [...H, 'kind'], (c, s) => {
    for (const h of s.handlers) {
      const kinds = Object.entries(h.failuresByKind ?? {});
      const known = kinds.reduce((n, [, v]) => n + v, 0);
      for (const [kind, n] of kinds) c.inc({ ...hl(h), kind }, n);
      // Failures counted before kinds were recorded (an older state) stay visible as unknown.
      if (h.failures > known) c.inc({ ...hl(h), kind: 'unknown' }, h.failures - known);
    }
  });
  counter('beehive_fallbacks_total', 'Remote fetches served to workers (objects not shipped inline)', H, perHandler((h) => h.fallbacks));
  gauge('beehive_handler_ratio', 'Effective offloading ratio of a handler (mode, phase and global ratio)', H,
    (g, s) => { for (const h of s.handlers) g.set(hl(h), effectiveRatio(h, s.ratio)); });
  gauge('beehive_handler_selected', '1 when the handler is selected for offloading', H, (g, s) => {
    for (const h of s.handlers) g.set(hl(h), h.selected ? 1 : 0);
  });
  gauge('beehive_handler_phase', '1 for the phase the handler is in', [...H, 'phase'], (g, s) => {
    for (const h of s.handlers) for (const p of kPhases) g.set({ ...hl(h), phase: p }, h.phase === p ? 1 : 0);
  });
  gauge('beehive_handler_mode', '1 for the mode the handler is set to', [...H, 'mode'], (g, s) => {
    for (const h of s.handlers) for (const m of kModes) g.set({ ...hl(h), mode: m }, h.mode === m ? 1 : 0);
  });
  gauge('beehive_handler_offloadable', '0 when the handler cannot be offloaded (see the dashboard for why)', H, (g, s) => {
    for (const h of s.handlers) g.set(hl(h), h.reason ? 0 : 1);
  });
  counter('beehive_handler_profile_seconds_total', 'Accumulated wall time of local runs', H, perHandler((h) => h.profile.totalMs / 1000));
  counter('beehive_handler_cpu_seconds_total', 'CPU time attributed to the handler by the sampling profiler', H, perHandler((h) => h.profile.cpuSelfMs / 1000));
  counter('beehive_closure_bytes_total', 'Bytes of closures shipped to workers (divide by offloads for the mean)', H, perHandler((h) => h.closureBytes.count * h.closureBytes.mean));
  counter('beehive_cost_usd_total', 'Estimated FaaS cost in USD', H, perHandler((h) => h.cost.usd));
  counter('beehive_billed_seconds_total', 'Billed FaaS duration', H, perHandler((h) => h.cost.billedMs / 1000));
  counter('beehive_gigabyte_seconds_total', 'Billed FaaS gigabyte-seconds (memory x duration)', H, perHandler((h) => h.cost.gbSeconds));

  counter('beehive_invocations_total', 'Worker invocations (local pool or FaaS), shadows included', ['platform'], (c, s) => c.inc({ platform: s.platform }, s.totals.invocations ?? 0));
  counter('beehive_cold_starts_total', 'Invocations that started a new worker instance', ['platform'], (c, s) => c.inc({ platform: s.platform }, s.totals.coldStarts ?? 0));
  gauge('beehive_workers', 'Workers by state: local processes; on a FaaS platform, instances busy with an invocation now', ['state'], (g, s) => {
    if (s.platform === 'local') {
      for (const st of kWorkerStates) g.set({ state: st }, s.workers.filter((w) => w.state === st).length);
    } else {
      g.set({ state: 'busy' }, s.totals.workersBusy ?? 0);
    }
  });
  gauge('beehive_offloads_queued', 'Offloaded requests waiting for a free worker (local pool)', [], (g, s) => g.set(s.totals.queued ?? 0));
  gauge('beehive_in_flight_requests', 'Requests being served now', [], (g, s) => g.set(s.totals.inFlight));
  gauge('beehive_event_loop_utilization', 'Event-loop utilisation over the last control period, 0..1', [], (g, s) => g.set(s.totals.elu));
  gauge('beehive_event_loop_delay_p99_seconds', 'Event-loop delay p99 over the last control period', [], (g, s) => g.set(s.totals.loopDelayP99 / 1000));

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
