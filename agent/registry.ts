import type { HandlerMode, HandlerPhase, HandlerStats, HistogramCounts, LatencySummary } from './state';

/**
 * Upper bounds (seconds) of the request-duration histogram buckets: from a fast local handler to
 * an invocation at the default 30 s timeout. Fixed, so that series of every server aggregate.
 */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** Counts per bucket of a fixed-bucket histogram, cheap enough for every request (a few compares). */
export class LatencyHistogram {
  private readonly counts = new Array<number>(DURATION_BUCKETS_S.length + 1).fill(0);
  private sumS = 0;
  private n = 0;
  observe(ms: number): void {
    const s = ms / 1000;
    let i = 0;
    while (i < DURATION_BUCKETS_S.length && s > DURATION_BUCKETS_S[i]) i++;
    this.counts[i]++;
    this.sumS += s;
    this.n++;
  }
  /** Cumulative counts per bound (the last one is +Inf = count), as Prometheus exposes them. */
  snapshot(): HistogramCounts {
    let acc = 0;
    return { cumulative: this.counts.map((c) => (acc += c)), sum: this.sumS, count: this.n };
  }
}

/** The failure kind of an offload error: the provider's `kind`, else the area of its code. */
export function failureKind(err: unknown): string {
  const e = err as { kind?: unknown; code?: unknown } | undefined;
  if (typeof e?.kind === 'string') return e.kind;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/_TIMEOUT$/.test(code)) return 'timeout';
  const area = /^BEEHIVE_ERR_([A-Z]+)_/.exec(code)?.[1];
  return area ? area.toLowerCase() : 'other';
}

/** A bounded sample of values for p50/p99 (latest N; enough for a dashboard and a stats file). */
export class Samples {
  private readonly buf: number[] = [];
  private i = 0;
  count = 0;
  sum = 0;
  constructor(private readonly size = 2048) {}
  add(v: number): void {
    this.count++;
    this.sum += v;
    if (this.buf.length < this.size) this.buf.push(v);
    else this.buf[this.i++ % this.size] = v;
  }
  summary(): LatencySummary {
    if (this.buf.length === 0) return { count: 0, p50: 0, p99: 0, mean: 0 };
    const s = [...this.buf].sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    return { count: this.count, p50: q(0.5), p99: q(0.99), mean: this.sum / this.count };
  }
}

/** One instrumented route handler and everything the agent knows of it. */
export class HandlerEntry {
  id: string;
  mode: HandlerMode = 'auto';
  phase: HandlerPhase = 'candidate';
  selected = false;
  reason?: string;
  local = 0;
  offloaded = 0;
  shadow = 0;
  cleanShadows = 0;
  shadowInFlight = false;
  fallbacks = 0;
  failures = 0;
  reexecuted = 0;
  conflicts = 0;
  retried = 0;
  readonly conflictsByReason: Record<string, number> = {};
  /** Shadow runs whose result differed from the local run's, and offloaded runs that ended in an error the local re-run did not reproduce (each sets shadowDiff; the handler is held). */
  diverged = 0;
  readonly failuresByKind: Record<string, number> = {};
  /** Offload attempts refused (by the capture or by the worker), the request run here. */
  refused = 0;
  cpuSelfMs = 0;
  /** This handler's own offloading ratio (the burst controller's); unset: the global ratio. */
  ratio?: number;
  private lastDiff?: HandlerStats['shadowDiff'];
  get shadowDiff(): HandlerStats['shadowDiff'] {
    return this.lastDiff;
  }
  set shadowDiff(d: HandlerStats['shadowDiff']) {
    if (d) this.diverged++;
    this.lastDiff = d;
  }
  readonly localHistogram = new LatencyHistogram();
  readonly offloadHistogram = new LatencyHistogram();
  readonly profile = new Samples();
  readonly localLatency = new Samples();
  readonly offloadLatency = new Samples();
  readonly captureMs = new Samples();
  readonly closureBytes = new Samples();
  readonly cost = { billedMs: 0, gbSeconds: 0, usd: 0 };
  /** A closure of this handler went past the budget: its captures are planned from the start. */
  closurePlanned = false;
  /** Server ids of objects workers fetched: shipped inline next time (refinement). */
  readonly refined = new Set<number>();
  routeResolved = false;

  constructor(
    readonly fn: Function,
    readonly method: string,
    public route: string,
    readonly framework: 'express' | 'nest',
    readonly expressMajor: number,
  ) {
    this.id = `${method} ${route}`;
  }

  /** A failed offload (the request then runs locally): counted, and by kind. */
  noteFailure(err: unknown): void {
    this.failures++;
    const k = failureKind(err);
    this.failuresByKind[k] = (this.failuresByKind[k] ?? 0) + 1;
  }

  noteConflict(reason: string): void {
    this.conflicts++;
    this.conflictsByReason[reason] = (this.conflictsByReason[reason] ?? 0) + 1;
  }

  /** The full route is known at the first request (a router's mount path is not known before). */
  resolveRoute(full: string, registry: Registry): void {
    if (this.routeResolved) return;
    this.routeResolved = true;
    if (full && full !== this.route) {
      registry.rename(this, `${this.method} ${full}`);
      this.route = full;
    }
  }

  stats(): HandlerStats {
    const p = this.profile.summary();
    return {
      id: this.id,
      method: this.method,
      route: this.route,
      mode: this.mode,
      phase: this.reason ? 'blocked' : this.phase,
      selected: this.selected,
      ...(this.ratio !== undefined ? { ratio: this.ratio } : {}),
      local: this.local,
      offloaded: this.offloaded,
      shadow: this.shadow,
      fallbacks: this.fallbacks,
      failures: this.failures,
      reexecuted: this.reexecuted,
      conflicts: this.conflicts,
      conflictsByReason: { ...this.conflictsByReason },
      retried: this.retried,
      diverged: this.diverged,
      failuresByKind: { ...this.failuresByKind },
      refused: this.refused,
      ...(this.reason ? { reason: this.reason } : {}),
      profile: { count: p.count, totalMs: this.profile.sum, meanMs: p.mean, cpuSelfMs: this.cpuSelfMs },
      latency: { local: this.localLatency.summary(), offloaded: this.offloadLatency.summary() },
      histogram: { local: this.localHistogram.snapshot(), offloaded: this.offloadHistogram.snapshot() },
      ...(this.shadowDiff ? { shadowDiff: this.shadowDiff } : {}),
      shadowInFlight: this.shadowInFlight,
      cost: { ...this.cost },
      closureBytes: this.closureBytes.summary(),
      capture: this.captureMs.summary(),
    };
  }
}

export class Registry {
  private readonly byId = new Map<string, HandlerEntry>();
  readonly all: HandlerEntry[] = [];

  add(e: HandlerEntry): HandlerEntry {
    let id = e.id;
    for (let n = 2; this.byId.has(id); n++) id = `${e.id} #${n}`;
    e.id = id;
    this.byId.set(id, e);
    this.all.push(e);
    return e;
  }

  rename(e: HandlerEntry, id: string): void {
    if (this.byId.get(e.id) === e) this.byId.delete(e.id);
    let unique = id;
    for (let n = 2; this.byId.has(unique); n++) unique = `${id} #${n}`;
    e.id = unique;
    this.byId.set(unique, e);
  }

  get(id: string): HandlerEntry | undefined {
    return this.byId.get(id);
  }
}
