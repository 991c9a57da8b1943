/**
 * What a provider sends to a worker and gets back. The event is JSON so that it travels unchanged
 * through the Lambda Invoke API, OpenWhisk's actions API and a local process's IPC; the closure inside
 * it is the binary closure codec's output, base64-encoded only here, at the platform boundary. A
 * closure larger than the platform's payload limit is not inlined: the worker fetches it over the
 * channel with `closureRef` instead.
 */
export const INVOCATION_VERSION = 1;

export interface InvocationEvent {
  /** Marks a BeeHive invocation and its protocol version. */
  beehive: typeof INVOCATION_VERSION;
  /** Invocation id (unique per server process). */
  inv: string;
  /** Capability token: the channel serves this invocation only to a worker presenting it. */
  cap: string;
  /** Where the worker reaches the server's channel: ws:// or wss://. */
  channel: string;
  /** base64 of the encoded closure + arguments, when it fits the payload limit. */
  closure?: string;
  /** Set instead of `closure` when it did not fit: fetch it over the channel. */
  closureRef?: string;
  /** Invocation deadline as milliseconds from now, for the worker's own bookkeeping. */
  timeoutMs: number;
  /** Shadow run: the worker's effects are discarded by the server. */
  shadow?: boolean;
  /** Provider-neutral test hooks (crash on purpose etc.) are never taken from here: see the runtime. */
}

export interface InvocationResult {
  beehive: typeof INVOCATION_VERSION;
  inv: string;
  ok: boolean;
  /** base64 of the encoded outcome (recorded response, dirty set), when ok. */
  outcome?: string;
  /** When !ok: a coded error from the runtime. */
  error?: { code: string; message: string };
  /** Worker-side timings in ms, for stats. */
  timings?: { decode: number; run: number; encode: number; fetches: number };
  /** Identifies the worker instance (for warm/cold accounting). */
  worker?: { id: string; cold: boolean; pid?: number };
  /** Set by a FaaS provider (not the worker): what this invocation was billed, for per-handler cost. */
  billing?: InvocationBilling;
}

/** Billed duration, memory and estimated price of one invocation. */
export interface InvocationBilling {
  billedMs: number;
  memoryMB: number;
  gbSeconds: number;
  usd: number;
}

/** A provider's billing totals with the prices used (USD). */
export interface CostSummary {
  requests: number;
  billedMs: number;
  gbSeconds: number;
  usd: number;
  prices: { perGbSecond: number; perMillionRequests: number };
}

/** How a provider reports an invocation that did not produce a result. */
export type InvokeFailureKind = 'timeout' | 'crash' | 'throttled' | 'serialize' | 'not-found' | 'payload-too-large' | 'platform';

export interface ProviderStats {
  invocations: number;
  cold: number;
  warm: number;
  failures: Record<string, number>;
  /** Billed milliseconds and GB-seconds (issue: cost accounting). */
  billedMs: number;
  gbSeconds: number;
  /** Requests, GB-s and estimated USD with the configured prices (FaaS providers). */
  cost?: CostSummary;
  workers: Array<{ id: string; state: 'idle' | 'busy' | 'starting'; invocations: number; pid?: number }>;
  /** Invocations waiting for a free worker (pools with a fixed size). */
  queued?: number;
}

/** A FaaS platform the agent can invoke workers on. */
export interface Provider {
  readonly name: 'local' | 'lambda' | 'openwhisk';
  /** Largest event (bytes of JSON) the platform accepts in one invoke. */
  readonly maxPayloadBytes: number;
  /**
   * Invokes one worker and resolves with its result. Rejects with a BeehiveError whose `kind`
   * property is an InvokeFailureKind when no result came back.
   */
  invoke(event: InvocationEvent, options: { timeoutMs: number }): Promise<InvocationResult>;
  /** Starts `n` workers ahead of a burst (best effort). */
  prewarm(n: number): Promise<void>;
  stats(): ProviderStats;
  close(): Promise<void>;
}

/**
 * A warm-up invocation (`Provider.prewarm`): the platform adapters answer it with a WarmupResult
 * once the worker runtime is loaded, without running anything, so that an instance is warm when
 * the burst's first offloaded request arrives.
 */
export interface WarmupEvent {
  beehiveWarmup: typeof INVOCATION_VERSION;
}
export interface WarmupResult {
  beehiveWarmup: typeof INVOCATION_VERSION;
  worker: { id: string; cold: boolean; pid?: number };
}
export const WARMUP_EVENT: WarmupEvent = { beehiveWarmup: INVOCATION_VERSION };
export function isWarmupEvent(value: unknown): value is WarmupEvent {
  return typeof value === 'object' && value !== null && (value as WarmupEvent).beehiveWarmup === INVOCATION_VERSION;
}
