/**
 * The AWS Lambda provider: synchronous invokes (RequestResponse) through the official
 * `@aws-sdk/client-lambda`, with region and credentials from the SDK's standard chain and an
 * optional endpoint override (the local emulator, LocalStack). Every failure rejects with a coded
 * error and a kind; the dispatcher then runs the request locally.
 *
 * Payload limit: `maxPayloadBytes` (6 MB, Lambda's synchronous limit). The dispatcher sends a
 * closure that would not fit by reference (`closureRef`) from the start, and the worker fetches it
 * over the channel; an event still above the limit is refused with PAYLOAD_TOO_LARGE before
 * anything is sent (the request then runs locally).
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { InvocationEvent, InvocationResult, Provider, ProviderStats } from '../../protocol';
import { billedMs, pricesFromEnv, resolvePrices, type Prices } from './cost';
import { invokeError, isInvokeError } from './errors';
import { boolean, envNumber, httpUrl, integerIn, knownKeys, nonEmptyString, optionalString, plainObject } from './faas-options';
import { encodeEvent, FaasStats, isResultFor, WARMUP_EVENT } from './faas-stats';
import { classifyFunctionError, classifySdkError, parseReport } from './lambda-report';
import { ThrottleBackoff } from './throttle';

export const LAMBDA_MAX_SYNC_PAYLOAD = 6 * 1024 * 1024;

export interface LambdaProviderOptions {
  /** Function name or ARN (required). `name:qualifier` is accepted too. */
  functionName: string;
  /** Version or alias. Default: none ($LATEST). */
  qualifier?: string;
  /** Endpoint override, e.g. `http://127.0.0.1:9001`. Default: the SDK's regional endpoint. */
  endpoint?: string;
  /** Region. Default: the SDK's chain (AWS_REGION, profile). */
  region?: string;
  /** Memory setting used for cost when the platform reports none. Default 1024. */
  memoryMB?: number;
  /** Largest event sent inline, in bytes. Default and maximum 6 MB. */
  maxPayloadBytes?: number;
  /** SDK attempts per invoke. Default 1: a failed request runs locally instead of waiting on retries. */
  maxAttempts?: number;
  /** Ask for the log tail (REPORT line: billed duration, cold start). Default true. */
  logTail?: boolean;
  /** First back-off after a throttle, doubled per consecutive throttle. Default 100 ms. */
  throttleBackoffMs?: number;
  /** Longest back-off. Default 5000 ms. */
  throttleBackoffMaxMs?: number;
  /** Prices for cost estimates. Default: Lambda x86 list prices. */
  prices?: Partial<Prices>;
}

const defaults = { memoryMB: 1024, maxPayloadBytes: LAMBDA_MAX_SYNC_PAYLOAD, maxAttempts: 1, logTail: true, throttleBackoffMs: 100, throttleBackoffMaxMs: 5000 };
const KNOWN = ['functionName', 'qualifier', 'endpoint', 'region', 'memoryMB', 'maxPayloadBytes', 'maxAttempts', 'logTail', 'throttleBackoffMs', 'throttleBackoffMaxMs', 'prices'] as const;

function validate(input: LambdaProviderOptions) {
  const o = plainObject(input, 'options');
  knownKeys(o, KNOWN);
  const opts = { ...defaults, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as LambdaProviderOptions & typeof defaults;
  let functionName = nonEmptyString(opts.functionName, 'functionName');
  let qualifier = optionalString(opts.qualifier, 'qualifier');
  // `name:qualifier` (not an ARN, whose qualifier the API reads itself).
  const m = /^([^:]+):([^:]+)$/.exec(functionName);
  if (m && !qualifier) [functionName, qualifier] = [m[1], m[2]];
  return {
    functionName,
    qualifier,
    endpoint: httpUrl(opts.endpoint, 'endpoint'),
    region: optionalString(opts.region, 'region'),
    memoryMB: integerIn(opts.memoryMB, 'memoryMB', 128, 10240),
    maxPayloadBytes: integerIn(opts.maxPayloadBytes, 'maxPayloadBytes', 1024, LAMBDA_MAX_SYNC_PAYLOAD),
    maxAttempts: integerIn(opts.maxAttempts, 'maxAttempts', 1, 10),
    logTail: boolean(opts.logTail, 'logTail'),
    throttleBackoffMs: integerIn(opts.throttleBackoffMs, 'throttleBackoffMs', 0, 60_000),
    throttleBackoffMaxMs: integerIn(opts.throttleBackoffMaxMs, 'throttleBackoffMaxMs', 0, 600_000),
    prices: resolvePrices('lambda', opts.prices === undefined ? undefined : (plainObject(opts.prices, 'options.prices') as Partial<Prices>)),
  };
}

/** Reads BEEHIVE_LAMBDA_FUNCTION (name[:qualifier]), BEEHIVE_LAMBDA_ENDPOINT, BEEHIVE_LAMBDA_MEMORY and price overrides. */
export function providerOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): LambdaProviderOptions {
  return {
    functionName: env.BEEHIVE_LAMBDA_FUNCTION as string,
    endpoint: env.BEEHIVE_LAMBDA_ENDPOINT || undefined,
    memoryMB: envNumber(env.BEEHIVE_LAMBDA_MEMORY),
    prices: pricesFromEnv(env),
  };
}

export function createLambdaProvider(options: LambdaProviderOptions): Provider {
  return new LambdaProvider(options);
}

export class LambdaProvider implements Provider {
  readonly name = 'lambda' as const;
  readonly maxPayloadBytes: number;
  private readonly opts: ReturnType<typeof validate>;
  private readonly client: LambdaClient;
  private readonly stat: FaasStats;
  private readonly backoff: ThrottleBackoff;
  private readonly inflight = new Set<AbortController>();
  private closed = false;

  constructor(options: LambdaProviderOptions) {
    this.opts = validate(options);
    this.maxPayloadBytes = this.opts.maxPayloadBytes;
    this.client = new LambdaClient({ endpoint: this.opts.endpoint, region: this.opts.region, maxAttempts: this.opts.maxAttempts });
    this.stat = new FaasStats('lambda', this.opts.prices);
    this.backoff = new ThrottleBackoff(this.opts.throttleBackoffMs, this.opts.throttleBackoffMaxMs);
  }

  async invoke(event: InvocationEvent, { timeoutMs }: { timeoutMs: number }): Promise<InvocationResult> {
    try {
      return await this.invokeOnce(event, timeoutMs);
    } catch (err) {
      const e = isInvokeError(err) ? err : invokeError('UNAVAILABLE', String((err as Error)?.message ?? err), err);
      this.stat.failed(e.kind);
      throw e;
    }
  }

  private async invokeOnce(event: InvocationEvent, timeoutMs: number): Promise<InvocationResult> {
    if (this.closed) throw invokeError('CLOSED');
    const wait = this.backoff.remaining();
    if (wait > 0) throw invokeError('THROTTLED', `backing off for ${wait} ms after a throttle`);
    const { text, bytes } = encodeEvent(event);
    if (bytes > this.maxPayloadBytes) {
      throw invokeError('PAYLOAD_TOO_LARGE', `event of ${bytes} bytes exceeds ${this.maxPayloadBytes} bytes; send the closure by reference`);
    }
    const started = performance.now();
    const out = await this.send(text, timeoutMs, this.opts.logTail);
    const measured = performance.now() - started;
    const report = parseReport(out.LogResult);
    const billing = this.stat.bill(report?.billedMs ?? billedMs('lambda', measured), report?.memoryMB ?? this.opts.memoryMB);
    const payload = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    if (out.FunctionError) {
      this.stat.completed(report?.initMs !== undefined);
      const { key, message } = classifyFunctionError(payload);
      throw invokeError(key, `${this.opts.functionName}: ${message}`);
    }
    let value: unknown;
    try {
      value = JSON.parse(payload);
    } catch {
      value = undefined;
    }
    if (!isResultFor(value, event)) {
      this.stat.completed(report?.initMs !== undefined);
      throw invokeError('MALFORMED_RESPONSE', `${this.opts.functionName} answered ${payload.slice(0, 120) || '(empty)'}`);
    }
    this.backoff.succeeded();
    this.stat.completed(report ? report.initMs !== undefined : !!value.worker?.cold, value.worker);
    return { ...value, billing };
  }

  /** One InvokeCommand, aborted at the deadline; SDK and network failures become coded errors. */
  private async send(text: string, timeoutMs: number, tail: boolean) {
    const ac = new AbortController();
    this.inflight.add(ac);
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      return await this.client.send(
        new InvokeCommand({
          FunctionName: this.opts.functionName,
          Qualifier: this.opts.qualifier,
          InvocationType: 'RequestResponse',
          LogType: tail ? 'Tail' : 'None',
          Payload: Buffer.from(text),
        }),
        { abortSignal: ac.signal },
      );
    } catch (err) {
      if (this.closed) throw invokeError('CLOSED', undefined, err);
      const key = ac.signal.aborted ? 'TIMEOUT' : classifySdkError(err);
      if (key === 'THROTTLED') this.backoff.throttled();
      const msg = key === 'TIMEOUT' ? `no answer from ${this.opts.functionName} in ${timeoutMs} ms` : `${(err as Error)?.name}: ${(err as Error)?.message}`;
      throw invokeError(key, msg, err);
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ac);
    }
  }

  /** Lambda has no "start instances" call: n concurrent warm-up invokes make it start n. */
  async prewarm(n: number): Promise<void> {
    if (this.closed || n <= 0) return;
    const text = JSON.stringify(WARMUP_EVENT);
    await Promise.allSettled(Array.from({ length: n }, () => this.send(text, 30_000, false)));
  }

  stats(): ProviderStats {
    return this.stat.snapshot();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const ac of this.inflight) ac.abort();
    this.client.destroy();
  }
}
