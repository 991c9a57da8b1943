/**
 * Wall-time accounting per candidate handler (paper §4.3: invocation count and accumulated time).
 * `record` sits on the request path, so it is a Map lookup and a histogram increment, never throws,
 * and memory is bounded by `maxHandlers`.
 */
import { LogHistogram } from './histogram';

export interface HandlerProfile {
  id: string;
  count: number;
  totalMs: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface WallProfilerOptions {
  /** Most handlers tracked; records for others are dropped. Default 1000. */
  maxHandlers?: number;
}

export interface WallProfiler {
  /** Adds one run of `handlerId` that took `ms` of wall time. */
  record(handlerId: string, ms: number): void;
  get(handlerId: string): HandlerProfile | undefined;
  snapshot(): HandlerProfile[];
  /** Forgets one handler, or all. */
  reset(handlerId?: string): void;
}

export function validateWallProfilerOptions(options: WallProfilerOptions): Required<WallProfilerOptions> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const o = { maxHandlers: 1000, ...options };
  if (!Number.isInteger(o.maxHandlers)) throw new TypeError('options.maxHandlers must be an integer from 1 to 100000');
  if (o.maxHandlers < 1 || o.maxHandlers > 100_000) throw new RangeError('options.maxHandlers must be an integer from 1 to 100000');
  return o;
}

function profileOf(id: string, h: LogHistogram): HandlerProfile {
  return {
    id,
    count: h.count,
    totalMs: h.sum,
    meanMs: h.mean,
    p50Ms: h.quantile(0.5),
    p99Ms: h.quantile(0.99),
    maxMs: h.count ? h.max : 0,
  };
}

export function createWallProfiler(options: WallProfilerOptions = {}): WallProfiler {
  const o = validateWallProfilerOptions(options);
  const byId = new Map<string, LogHistogram>();
  return {
    record(handlerId, ms) {
      let h = byId.get(handlerId);
      if (!h) {
        if (byId.size >= o.maxHandlers) return;
        h = new LogHistogram();
        byId.set(handlerId, h);
      }
      h.record(ms);
    },
    get(handlerId) {
      const h = byId.get(handlerId);
      return h ? profileOf(handlerId, h) : undefined;
    },
    snapshot() {
      return [...byId].map(([id, h]) => profileOf(id, h));
    },
    reset(handlerId) {
      if (handlerId === undefined) byId.clear();
      else byId.delete(handlerId);
    },
  };
}
