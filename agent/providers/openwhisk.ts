/**
 * The Apache OpenWhisk provider: blocking invokes through the official `openwhisk` client. A
 * blocking invoke that outlasts the controller's blocking window comes back as 202 with an
 * activation id; the activation is then polled until the deadline. Failures reject with coded
 * errors and a kind; the dispatcher re-runs the request locally.
 *
 * Payload limit: OpenWhisk accepts ~1 MB of parameters by default (configurable per deployment).
 * The dispatcher sends a closure that would not fit by reference (`closureRef`: it travels over
 * the channel) from the start; an event still above the limit is refused with PAYLOAD_TOO_LARGE
 * before sending (the request then runs locally).
 */
import http from 'node:http';
import https from 'node:https';
import openwhisk from 'openwhisk';
import type { InvocationEvent, InvocationResult, Provider, ProviderStats } from '../../protocol';
import { pricesFromEnv, resolvePrices, type Prices } from './cost';
import { invokeError, isInvokeError } from './errors';
import { boolean, envNumber, integerIn, knownKeys, nonEmptyString, optionalString, plainObject } from './faas-options';
import { encodeEvent, FaasStats, isResultFor, WARMUP_EVENT } from './faas-stats';
import { classifyActivation, classifyHttpError, isActivation, isCold, memoryOf, type Activation } from './openwhisk-activation';
import { ThrottleBackoff } from './throttle';
import { ProviderOptionErrors } from './option-errors';

export interface OpenWhiskProviderOptions {
  /** API host: `https://host[:port]`, `http://127.0.0.1:3233`; no scheme means https (required). */
  apihost: string;
  /** API key `uuid:key` (required). */
  auth: string;
  /** Action name: `name`, `package/name` or `/namespace/package/name` (required). */
  action: string;
  /** Namespace. Default `_` (the key's own). */
  namespace?: string;
  /** Memory used for cost when the activation does not say. Default 256. */
  memoryMB?: number;
  /** Largest event sent inline, in bytes. Default 1 MB. */
  maxPayloadBytes?: number;
  /** Accept self-signed certificates (local deployments). Default false. */
  ignoreCerts?: boolean;
  /** First poll interval after a 202; doubles up to 250 ms. Default 10 ms. */
  pollIntervalMs?: number;
  throttleBackoffMs?: number;
  throttleBackoffMaxMs?: number;
  /** Prices for cost estimates. Default: $0.000017 per GB-s. */
  prices?: Partial<Prices>;
}

const defaults = { namespace: '_', memoryMB: 256, maxPayloadBytes: 1024 * 1024, ignoreCerts: false, pollIntervalMs: 10, throttleBackoffMs: 100, throttleBackoffMaxMs: 5000 };
const KNOWN = ['apihost', 'auth', 'action', 'namespace', 'memoryMB', 'maxPayloadBytes', 'ignoreCerts', 'pollIntervalMs', 'throttleBackoffMs', 'throttleBackoffMaxMs', 'prices'] as const;

function validate(input: OpenWhiskProviderOptions) {
  const o = plainObject(input, 'options');
  knownKeys(o, KNOWN);
  const opts = { ...defaults, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as OpenWhiskProviderOptions & typeof defaults;
  const auth = nonEmptyString(opts.auth, 'auth');
  if (!/^[^:]+:.+$/.test(auth)) throw ProviderOptionErrors.OPTION_TYPE('options.auth must be an API key of the form uuid:key');
  return {
    apihost: nonEmptyString(opts.apihost, 'apihost'),
    auth,
    action: nonEmptyString(opts.action, 'action'),
    namespace: optionalString(opts.namespace, 'namespace') as string,
    memoryMB: integerIn(opts.memoryMB, 'memoryMB', 128, 65536),
    maxPayloadBytes: integerIn(opts.maxPayloadBytes, 'maxPayloadBytes', 1024, 64 * 1024 * 1024),
    ignoreCerts: boolean(opts.ignoreCerts, 'ignoreCerts'),
    pollIntervalMs: integerIn(opts.pollIntervalMs, 'pollIntervalMs', 1, 10_000),
    throttleBackoffMs: integerIn(opts.throttleBackoffMs, 'throttleBackoffMs', 0, 60_000),
    throttleBackoffMaxMs: integerIn(opts.throttleBackoffMaxMs, 'throttleBackoffMaxMs', 0, 600_000),
    prices: resolvePrices('openwhisk', opts.prices === undefined ? undefined : (plainObject(opts.prices, 'options.prices') as Partial<Prices>)),
  };
}

/** Reads BEEHIVE_OPENWHISK_APIHOST, _AUTH, _ACTION, _NAMESPACE, _MEMORY, _IGNORE_CERTS and price overrides. */
export function providerOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OpenWhiskProviderOptions {
  return {
    apihost: env.BEEHIVE_OPENWHISK_APIHOST as string,
    auth: env.BEEHIVE_OPENWHISK_AUTH as string,
    action: env.BEEHIVE_OPENWHISK_ACTION as string,
    namespace: env.BEEHIVE_OPENWHISK_NAMESPACE || undefined,
    memoryMB: envNumber(env.BEEHIVE_OPENWHISK_MEMORY),
    ignoreCerts: env.BEEHIVE_OPENWHISK_IGNORE_CERTS ? env.BEEHIVE_OPENWHISK_IGNORE_CERTS === '1' || env.BEEHIVE_OPENWHISK_IGNORE_CERTS === 'true' : undefined,
    prices: pricesFromEnv(env),
  };
}

export function createOpenWhiskProvider(options: OpenWhiskProviderOptions): Provider {
  return new OpenWhiskProvider(options);
}

export class OpenWhiskProvider implements Provider {
  readonly name = 'openwhisk' as const;
  readonly maxPayloadBytes: number;
  private readonly opts: ReturnType<typeof validate>;
  private readonly ow: ReturnType<typeof openwhisk>;
  private readonly agent: http.Agent;
  private readonly stat: FaasStats;
  private readonly backoff: ThrottleBackoff;
  private closed = false;

  constructor(options: OpenWhiskProviderOptions) {
    this.opts = validate(options);
    this.maxPayloadBytes = this.opts.maxPayloadBytes;
    const secure = !/^http:\/\//.test(this.opts.apihost);
    // Keep-alive: a warm invoke should not pay a TCP (and TLS) handshake.
    this.agent = secure ? new https.Agent({ keepAlive: true, rejectUnauthorized: !this.opts.ignoreCerts }) : new http.Agent({ keepAlive: true });
    this.ow = openwhisk({ apihost: this.opts.apihost, api_key: this.opts.auth, namespace: this.opts.namespace === '_' ? undefined : this.opts.namespace, ignore_certs: this.opts.ignoreCerts, agent: this.agent });
    this.stat = new FaasStats('openwhisk', this.opts.prices);
    this.backoff = new ThrottleBackoff(this.opts.throttleBackoffMs, this.opts.throttleBackoffMaxMs);
  }

  async invoke(event: InvocationEvent, { timeoutMs }: { timeoutMs: number }): Promise<InvocationResult> {
    try {
      return await this.invokeOnce(event, timeoutMs);
    } catch (err) {
      const e = isInvokeError(err) ? err : invokeError('UNAVAILABLE', String((err as Error)?.message ?? err), err);
      if (e.kind === 'throttled' && !/backing off/.test(e.message)) this.backoff.throttled();
      this.stat.failed(e.kind);
      throw e;
    }
  }

  private async invokeOnce(event: InvocationEvent, timeoutMs: number): Promise<InvocationResult> {
    if (this.closed) throw invokeError('CLOSED');
    const wait = this.backoff.remaining();
    if (wait > 0) throw invokeError('THROTTLED', `backing off for ${wait} ms after a throttle`);
    const { bytes } = encodeEvent(event);
    if (bytes > this.maxPayloadBytes) {
      throw invokeError('PAYLOAD_TOO_LARGE', `event of ${bytes} bytes exceeds ${this.maxPayloadBytes} bytes; send the closure by reference`);
    }
    const deadline = Date.now() + timeoutMs;
    const activation = await this.activate(event as unknown as Record<string, unknown>, deadline);
    const billing = this.stat.bill(Math.max(0, Math.ceil(activation.duration ?? 0)), memoryOf(activation) ?? this.opts.memoryMB);
    const result = activation.response.result;
    // The runtime's own coded failure ({ok:false, error}) has an `error` property, which OpenWhisk
    // records as an application error: it is still a well-formed result for the agent.
    const failure = activation.response.status === 'application error' && isResultFor(result, event) ? undefined : classifyActivation(activation);
    if (failure) {
      this.stat.completed(isCold(activation));
      throw invokeError(failure.key, `${this.opts.action} (${activation.activationId}) ${failure.message}`);
    }
    if (!isResultFor(result, event)) {
      this.stat.completed(isCold(activation));
      throw invokeError('MALFORMED_RESPONSE', `${this.opts.action} answered ${JSON.stringify(result ?? null).slice(0, 120)}`);
    }
    this.backoff.succeeded();
    this.stat.completed(isCold(activation) || !!result.worker?.cold, result.worker);
    return { ...result, billing };
  }

  /** A blocking invoke; past the blocking window (202), polls the activation until the deadline. */
  private async activate(params: Record<string, unknown>, deadline: number): Promise<Activation> {
    let first: unknown;
    try {
      const left = Math.max(1, deadline - Date.now());
      first = await withDeadline(
        this.ow.actions.invoke({ name: this.opts.action, blocking: true, params, response_timeout: left } as never),
        left,
      );
    } catch (err) {
      if (err === kDeadline) throw invokeError('TIMEOUT', `no answer from ${this.opts.action} in time`);
      // A failed activation arrives as HTTP 502/500 whose body is the activation record.
      const body = (err as { error?: unknown })?.error;
      if (isActivation(body)) return body;
      if (this.closed) throw invokeError('CLOSED', undefined, err);
      throw invokeError(classifyHttpError(err), (err as Error)?.message, err);
    }
    if (isActivation(first)) return first;
    const id = (first as { activationId?: unknown })?.activationId;
    if (typeof id !== 'string') throw invokeError('MALFORMED_RESPONSE', `unexpected invoke answer ${JSON.stringify(first).slice(0, 120)}`);
    return this.poll(id, deadline);
  }

  private async poll(id: string, deadline: number): Promise<Activation> {
    let interval = this.opts.pollIntervalMs;
    for (;;) {
      if (this.closed) throw invokeError('CLOSED');
      try {
        const rec = await this.ow.activations.get({ name: id });
        if (isActivation(rec)) return rec;
      } catch (err) {
        // 404 until the activation completes; anything else is a real failure.
        if ((err as { statusCode?: number })?.statusCode !== 404) throw invokeError(classifyHttpError(err), (err as Error)?.message, err);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw invokeError('TIMEOUT', `activation ${id} of ${this.opts.action} did not complete in time`);
      await new Promise((r) => setTimeout(r, Math.min(interval, left)));
      interval = Math.min(250, interval * 2);
    }
  }

  /** n concurrent warm-up activations make the platform start n containers. */
  async prewarm(n: number): Promise<void> {
    if (this.closed || n <= 0) return;
    const deadline = Date.now() + 30_000;
    await Promise.allSettled(Array.from({ length: n }, () => this.activate({ ...WARMUP_EVENT }, deadline)));
  }

  stats(): ProviderStats {
    return this.stat.snapshot();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
  }
}

const kDeadline = Symbol('deadline');

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(kDeadline), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
