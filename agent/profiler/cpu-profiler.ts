/**
 * CPU time per handler from V8's sampling profiler, through an in-process inspector Session (no
 * native addon). Sampling runs only in windows — by default 1 s out of every 10 s — so its cost
 * disappears in the average; between windows the profiler is stopped, not merely ignored.
 */
import { attributeProfile, type Attribution, type CpuProfile } from './cpu-attribution';
import { connectSession, locateFunction, locationKey, type Post } from './inspector-session';
import { ProfilerErrors } from './errors';

export interface CpuProfilerOptions {
  /** Sampling interval in µs. Default 1000. */
  samplingIntervalUs?: number;
  /** Length of a sampling window in ms. Default 1000. */
  windowMs?: number;
  /** A window starts every this many ms. Default 10000. */
  periodMs?: number;
  /** Called with each finished window's attribution. */
  onWindow?: (a: Attribution) => void;
}

export interface CpuProfiler {
  /** Follows `fn` (a handler's own function, not a framework wrapper). False when it has no JS location. */
  track(handlerId: string, fn: Function): boolean;
  untrack(handlerId: string): void;
  /** Starts one sampling window now (no-op if one is open). */
  begin(): void;
  /** Ends the open window and attributes it; undefined if none was open. */
  end(): Attribution | undefined;
  /** Runs windows on the duty cycle (timers unref'd). */
  start(): void;
  stop(): void;
  /** CPU ms per handler over all windows so far. */
  totals(): Map<string, number>;
  /** Wall time covered by sampling windows so far, ms. */
  readonly sampledMs: number;
  close(): void;
}

const kDefaults = { samplingIntervalUs: 1000, windowMs: 1000, periodMs: 10_000 };

export function validateCpuProfilerOptions(options: CpuProfilerOptions): Required<Omit<CpuProfilerOptions, 'onWindow'>> & CpuProfilerOptions {
  if (options === null || typeof options !== 'object') throw ProfilerErrors.OPTION_TYPE('options must be an object');
  const o = { ...kDefaults, ...options };
  const int = (name: 'samplingIntervalUs' | 'windowMs' | 'periodMs', min: number, max: number): void => {
    const message = `options.${name} must be an integer from ${min} to ${max}`;
    if (!Number.isInteger(o[name])) throw ProfilerErrors.OPTION_TYPE(message);
    if (o[name] < min || o[name] > max) throw ProfilerErrors.OPTION_RANGE(message);
  };
  int('samplingIntervalUs', 50, 1_000_000);
  int('windowMs', 10, 3_600_000);
  int('periodMs', 10, 3_600_000);
  if (o.windowMs > o.periodMs) throw ProfilerErrors.OPTION_RANGE('options.windowMs must not exceed options.periodMs');
  if (o.onWindow !== undefined && typeof o.onWindow !== 'function') throw ProfilerErrors.OPTION_TYPE('options.onWindow must be a function');
  return o;
}

export function createCpuProfiler(options: CpuProfilerOptions = {}): CpuProfiler {
  const o = validateCpuProfilerOptions(options);
  const session = connectSession();
  const post: Post = session.post;
  post('Profiler.enable');
  post('Profiler.setSamplingInterval', { interval: o.samplingIntervalUs });
  const keyOf = new Map<string, string>(); // handler id → location key
  const byLocation = new Map<string, string[]>();
  const totals = new Map<string, number>();
  let open = false;
  let sampledMs = 0;
  let period: NodeJS.Timeout | undefined;
  let window: NodeJS.Timeout | undefined;
  let closed = false;

  function untrack(id: string): void {
    const key = keyOf.get(id);
    if (key === undefined) return;
    keyOf.delete(id);
    const ids = (byLocation.get(key) ?? []).filter((x) => x !== id);
    if (ids.length) byLocation.set(key, ids);
    else byLocation.delete(key);
  }

  function end(): Attribution | undefined {
    if (!open) return undefined;
    open = false;
    const { profile } = post<{ profile: CpuProfile }>('Profiler.stop');
    const a = attributeProfile(profile, byLocation);
    sampledMs += a.durationMs;
    for (const [id, ms] of a.byHandler) totals.set(id, (totals.get(id) ?? 0) + ms);
    try { o.onWindow?.(a); } catch { /* a listener's bug must not stop profiling */ }
    return a;
  }

  function begin(): void {
    if (open || closed) return;
    post('Profiler.start');
    open = true;
  }

  function stop(): void {
    if (period) clearInterval(period);
    if (window) clearTimeout(window);
    period = window = undefined;
    end();
  }

  return {
    track(id, fn) {
      if (typeof fn !== 'function') throw ProfilerErrors.ARGUMENT('fn must be a function');
      untrack(id);
      const loc = locateFunction(post, fn);
      if (!loc) return false;
      const key = locationKey(loc);
      keyOf.set(id, key);
      byLocation.set(key, [...(byLocation.get(key) ?? []), id]);
      return true;
    },
    untrack,
    begin,
    end,
    start() {
      if (period || closed) return;
      const runWindow = (): void => {
        begin();
        window = setTimeout(() => { window = undefined; end(); }, o.windowMs);
        window.unref();
      };
      runWindow();
      period = setInterval(runWindow, o.periodMs);
      period.unref();
    },
    stop,
    totals: () => new Map(totals),
    get sampledMs() { return sampledMs; },
    close() {
      if (closed) return;
      stop();
      closed = true;
      post('Profiler.disable');
      session.close();
    },
  };
}
