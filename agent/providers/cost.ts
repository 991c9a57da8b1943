/**
 * Cost accounting for FaaS invocations. The platforms bill memory × duration (GB-seconds) plus a fee
 * per request: Lambda rounds duration up to 1 ms, OpenWhisk-based offerings bill the activation's
 * duration. Prices are configurable because they differ by region, architecture and vendor; the
 * defaults are public list prices (Lambda x86, IBM Cloud Functions style OpenWhisk).
 */
import type { InvocationBilling, CostSummary } from '../../protocol';
import { ProviderOptionErrors } from './option-errors';

export type CostPlatform = 'local' | 'lambda' | 'openwhisk';

export interface Prices {
  /** USD per GB-second of memory × billed duration. */
  perGbSecond: number;
  /** USD per million requests. */
  perMillionRequests: number;
}

export const DEFAULT_PRICES: Readonly<Record<CostPlatform, Readonly<Prices>>> = {
  lambda: { perGbSecond: 0.0000166667, perMillionRequests: 0.2 },
  openwhisk: { perGbSecond: 0.000017, perMillionRequests: 0 },
  // Local workers are the server's own cores: nothing is billed per invocation.
  local: { perGbSecond: 0, perMillionRequests: 0 },
};

export type { InvocationBilling, CostSummary } from '../../protocol';

/** Billed milliseconds for a measured duration on a platform. */
export function billedMs(platform: CostPlatform, durationMs: number): number {
  if (!Number.isFinite(durationMs) || durationMs <= 0) return platform === 'lambda' ? 1 : 0;
  // Lambda: 1 ms granularity, rounded up, minimum 1 ms. OpenWhisk reports whole milliseconds.
  return Math.max(platform === 'lambda' ? 1 : 0, Math.ceil(durationMs));
}

export function gbSeconds(ms: number, memoryMB: number): number {
  return (ms / 1000) * (memoryMB / 1024);
}

/** Validates and completes a partial price table (piscina-style messages). */
export function resolvePrices(platform: CostPlatform, prices: Partial<Prices> | undefined, name = 'options.prices'): Prices {
  const out = { ...DEFAULT_PRICES[platform], ...(prices ?? {}) };
  for (const key of ['perGbSecond', 'perMillionRequests'] as const) {
    const v = out[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw ProviderOptionErrors.OPTION_TYPE(`${name}.${key} must be a finite number`);
    if (v < 0) throw ProviderOptionErrors.OPTION_RANGE(`${name}.${key} must be >= 0`);
  }
  return out;
}

/** Accumulates billing over a provider's lifetime. */
export class CostMeter {
  readonly platform: CostPlatform;
  readonly prices: Prices;
  private requests = 0;
  private ms = 0;
  private gbs = 0;

  constructor(platform: CostPlatform, prices?: Partial<Prices>) {
    this.platform = platform;
    this.prices = resolvePrices(platform, prices);
  }

  /**
   * Records one billed request. `billed` is the platform's own billed duration when it reported one
   * (Lambda REPORT line, OpenWhisk activation duration), else the caller's measurement.
   */
  record(billed: number, memoryMB: number): InvocationBilling {
    const ms = Math.max(0, billed);
    const gbs = gbSeconds(ms, memoryMB);
    this.requests += 1;
    this.ms += ms;
    this.gbs += gbs;
    return { billedMs: ms, memoryMB, gbSeconds: gbs, usd: this.cost(gbs, 1) };
  }

  /** Totals so far. Requests the platform refused (throttle, not found) were never recorded: not billed. */
  summary(): CostSummary {
    return { requests: this.requests, billedMs: this.ms, gbSeconds: this.gbs, usd: this.cost(this.gbs, this.requests), prices: { ...this.prices } };
  }

  private cost(gbs: number, requests: number): number {
    return gbs * this.prices.perGbSecond + (requests / 1e6) * this.prices.perMillionRequests;
  }
}

/** Reads price overrides from the environment: BEEHIVE_PRICE_GB_SECOND, BEEHIVE_PRICE_PER_MILLION_REQUESTS. */
export function pricesFromEnv(env: NodeJS.ProcessEnv): Partial<Prices> | undefined {
  const out: Partial<Prices> = {};
  if (env.BEEHIVE_PRICE_GB_SECOND !== undefined) out.perGbSecond = Number(env.BEEHIVE_PRICE_GB_SECOND);
  if (env.BEEHIVE_PRICE_PER_MILLION_REQUESTS !== undefined) out.perMillionRequests = Number(env.BEEHIVE_PRICE_PER_MILLION_REQUESTS);
  return Object.keys(out).length ? out : undefined;
}
