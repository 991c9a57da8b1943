/**
 * Per-interval time series of the agent, for the dashboard's charts (`GET /api/series`).
 *
 * The agent exposes cumulative counters; rates come from the deltas between two samples divided by
 * the time between them. Points live in a fixed ring (default 600 points = 10 min at 1 s), so memory
 * is bounded however long the server runs. `sample(now)` is public so tests drive it with their own
 * clock instead of waiting on timers.
 */
import type { AgentControl, AgentState } from '../state';
import { AdminOptionErrors } from './option-errors';

export interface SeriesPoint {
  /** Sample time, ms since the epoch. */
  t: number;
  /** Requests per second that ran on the server / on workers / as shadows. */
  localRps: number;
  offloadedRps: number;
  shadowRps: number;
  fallbacksPs: number;
  failuresPs: number;
  /** Offloaded requests run again on the server (failures and conflicts), and conflicts alone, per second. */
  reexecutedPs: number;
  conflictsPs: number;
  /** End-to-end latency over the agent's last control period, ms. */
  p50: number;
  p99: number;
  ratio: number;
  workersBusy: number;
  workersTotal: number;
  /** Handlers in the shadow phase, and those that went live. */
  shadowHandlers: number;
  liveHandlers: number;
  inFlight: number;
  elu: number;
  /** Cumulative cost in USD. */
  costUsd: number;
}

export interface SeriesOptions {
  /** Sampling interval in ms. Default 1000. */
  intervalMs?: number;
  /** Points kept. Default 600 (10 minutes at 1 s). */
  capacity?: number;
  /** Clock, ms. Default `Date.now`. */
  now?: () => number;
}

export interface SeriesSampler {
  readonly intervalMs: number;
  readonly capacity: number;
  /** Takes one sample now (or at `now`); returns the point added, or undefined for the first one. */
  sample(now?: number): SeriesPoint | undefined;
  /** Points in time order, optionally only those after `since`. */
  points(since?: number): SeriesPoint[];
  start(): void;
  stop(): void;
}

const kDefaults = { intervalMs: 1000, capacity: 600 };

interface Counters { t: number; local: number; offloaded: number; shadow: number; fallbacks: number; failures: number; reexecuted: number; conflicts: number }

function countersOf(state: AgentState, t: number): Counters {
  const x = state.totals;
  return { t, local: x.local, offloaded: x.offloaded, shadow: x.shadow, fallbacks: x.fallbacks, failures: x.failures, reexecuted: x.reexecuted ?? 0, conflicts: x.conflicts ?? 0 };
}

// A counter that went down (agent restarted its stats) yields 0, not a negative rate.
const rate = (now: number, before: number, seconds: number): number => Math.max(0, now - before) / seconds;

export function validateSeriesOptions(options: SeriesOptions): Required<SeriesOptions> {
  if (options === null || typeof options !== 'object') throw AdminOptionErrors.OPTION_TYPE('options must be an object');
  const o = { ...kDefaults, now: Date.now, ...options };
  if (!Number.isInteger(o.intervalMs)) throw AdminOptionErrors.OPTION_TYPE('options.intervalMs must be an integer from 10 to 3600000');
  if (o.intervalMs < 10 || o.intervalMs > 3_600_000) throw AdminOptionErrors.OPTION_RANGE('options.intervalMs must be an integer from 10 to 3600000');
  if (!Number.isInteger(o.capacity)) throw AdminOptionErrors.OPTION_TYPE('options.capacity must be an integer from 2 to 100000');
  if (o.capacity < 2 || o.capacity > 100_000) throw AdminOptionErrors.OPTION_RANGE('options.capacity must be an integer from 2 to 100000');
  if (typeof o.now !== 'function') throw AdminOptionErrors.OPTION_TYPE('options.now must be a function');
  return o;
}

export function createSeriesSampler(control: Pick<AgentControl, 'getState'>, options: SeriesOptions = {}): SeriesSampler {
  const o = validateSeriesOptions(options);
  const ring: SeriesPoint[] = new Array(o.capacity);
  let head = 0; // next write position
  let size = 0;
  let last: Counters | undefined;
  let timer: NodeJS.Timeout | undefined;

  function sample(now: number = o.now()): SeriesPoint | undefined {
    const state = control.getState();
    const current = countersOf(state, now);
    const before = last;
    last = current;
    if (!before || now <= before.t) return undefined;
    const s = (now - before.t) / 1000;
    // FaaS platforms do not report instance states: the agent counts invocations in flight instead.
    const busy = state.totals.workersBusy ?? state.workers.filter((w) => w.state === 'busy').length;
    const point: SeriesPoint = {
      t: now,
      localRps: rate(current.local, before.local, s),
      offloadedRps: rate(current.offloaded, before.offloaded, s),
      shadowRps: rate(current.shadow, before.shadow, s),
      fallbacksPs: rate(current.fallbacks, before.fallbacks, s),
      failuresPs: rate(current.failures, before.failures, s),
      reexecutedPs: rate(current.reexecuted, before.reexecuted, s),
      conflictsPs: rate(current.conflicts, before.conflicts, s),
      p50: state.totals.latency.p50,
      p99: state.totals.latency.p99,
      ratio: state.ratio,
      workersBusy: busy,
      workersTotal: state.platform === 'local' ? state.workers.length : Math.max(busy, state.workers.length),
      shadowHandlers: state.handlers.filter((h) => h.phase === 'shadow').length,
      liveHandlers: state.handlers.filter((h) => h.phase === 'live').length,
      inFlight: state.totals.inFlight,
      elu: state.totals.elu,
      costUsd: state.totals.cost.usd,
    };
    ring[head] = point;
    head = (head + 1) % o.capacity;
    size = Math.min(size + 1, o.capacity);
    return point;
  }

  function points(since?: number): SeriesPoint[] {
    const out: SeriesPoint[] = [];
    for (let i = 0; i < size; i++) {
      const p = ring[(head - size + i + o.capacity) % o.capacity];
      if (since === undefined || p.t > since) out.push(p);
    }
    return out;
  }

  return {
    intervalMs: o.intervalMs,
    capacity: o.capacity,
    sample,
    points,
    start() {
      if (timer) return;
      // A failing getState must not kill the server through an uncaught timer exception.
      const tick = (): void => {
        try { sample(); } catch { /* the next tick tries again */ }
      };
      tick();
      timer = setInterval(tick, o.intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
