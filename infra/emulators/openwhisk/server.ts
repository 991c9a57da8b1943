/**
 * A local Apache OpenWhisk controller: the actions and activations REST API, faithful enough for
 * the `openwhisk` npm client unchanged (Basic auth, blocking invokes, 202 past the blocking window,
 * activation records), running each action's artifact in separate instance processes.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { closeFunctions, prepareFunctions, type EmulatedFunction } from '../common/functions';
import type { FunctionSpec } from '../common/function-spec';
import { closeServer, listen, readBody, sendJson } from '../common/http';
import { buildActivation, httpStatusOf, type ActivationRecord } from './activation';

export interface OpenWhiskEmulatorOptions {
  host?: string;
  port?: number;
  functions: FunctionSpec[];
  /** The API key clients must present, `uuid:key`. Default: OpenWhisk's well-known guest key. */
  auth?: string;
  /** The namespace the key owns (`_` always means it). Default `guest`. */
  namespace?: string;
  /** How long a blocking invoke waits before answering 202 with the activation id. Default 60 s. */
  blockingWindowS?: number;
  /** Largest request body. Default 1 MB (whisk.activation.payload.max). */
  maxPayloadBytes?: number;
  /** Largest action result. Default 1 MB. */
  maxResultBytes?: number;
  onActivation?: (a: ActivationRecord) => void;
}

export interface OpenWhiskEmulator {
  url: string;
  auth: string;
  /** 'activation' (ActivationRecord), 'instance-start', 'instance-exit'. */
  events: EventEmitter;
  activations: Map<string, ActivationRecord>;
  stats(): Record<string, ReturnType<EmulatedFunction['pool']['stats']>>;
  close(): Promise<void>;
}

export const GUEST_KEY = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';
const ONE_MB = 1024 * 1024;
const ACTION_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/actions\/(.+)$/;
const ACTIVATION_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/activations\/([0-9a-f]+)$/;

export async function startOpenWhiskEmulator(opts: OpenWhiskEmulatorOptions): Promise<OpenWhiskEmulator> {
  const auth = opts.auth ?? GUEST_KEY;
  const namespace = opts.namespace ?? 'guest';
  const blockingMs = (opts.blockingWindowS ?? 60) * 1000;
  const maxPayload = opts.maxPayloadBytes ?? ONE_MB;
  const maxResult = opts.maxResultBytes ?? ONE_MB;
  const events = new EventEmitter();
  const activations = new Map<string, ActivationRecord>();
  const fns = await prepareFunctions('openwhisk', opts.functions, { handler: 'main', memoryMB: 256, timeoutS: 60, concurrency: 10, idleTimeoutS: 600 }, () => ({
    __OW_API_HOST: '',
    __OW_NAMESPACE: namespace,
  }), events);
  const expected = 'Basic ' + Buffer.from(auth).toString('base64');

  const error = (res: http.ServerResponse, status: number, message: string) => sendJson(res, status, { error: message, code: randomUUID().replace(/-/g, '') });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!req.headers.authorization) return error(res, 401, 'The resource requires authentication, which was not supplied with the request');
    if (req.headers.authorization !== expected) return error(res, 401, 'The supplied authentication is invalid');
    const act = ACTIVATION_PATH.exec(url.pathname);
    const action = ACTION_PATH.exec(url.pathname);
    const ns = decodeURIComponent((act ?? action)?.[1] ?? '_');
    if (ns !== '_' && ns !== namespace) return error(res, 403, `The supplied authentication is not authorized to access '${ns}'.`);
    if (act && req.method === 'GET') {
      // A running activation is not stored yet: 404 until it completes, as in OpenWhisk.
      const rec = activations.get(act[2]);
      return rec ? sendJson(res, 200, rec) : error(res, 404, 'The requested resource does not exist.');
    }
    if (!action || req.method !== 'POST') return error(res, 404, 'The requested resource does not exist.');
    const fn = fns.get(decodeURIComponent(action[2]));
    if (!fn) return error(res, 404, 'The requested resource does not exist.');
    const body = await readBody(req, maxPayload);
    if (!body.ok) return error(res, 413, `The request content was malformed:\nRequest entity too large: ${body.size} > ${maxPayload} bytes.`);
    let params: unknown = {};
    try {
      if (body.body.length) params = JSON.parse(body.body.toString('utf8'));
    } catch (err) {
      return error(res, 400, `The request content was malformed:\n${(err as Error).message}`);
    }
    if (params === null || typeof params !== 'object' || Array.isArray(params)) return error(res, 400, 'The request content was malformed:\nexpected a JSON object');
    const blocking = url.searchParams.get('blocking') === 'true';
    const resultOnly = url.searchParams.get('result') === 'true';
    const activationId = randomUUID().replace(/-/g, '');
    const running = activate(fn, activationId, JSON.stringify(params));
    if (!blocking) {
      running.catch(() => {});
      return sendJson(res, 202, { activationId }, { 'x-openwhisk-activation-id': activationId });
    }
    let timer: NodeJS.Timeout | undefined;
    const window = new Promise<'window'>((r) => (timer = setTimeout(() => r('window'), blockingMs)));
    const first = await Promise.race([running, window]);
    clearTimeout(timer);
    if (first === 'window') {
      running.catch(() => {});
      return sendJson(res, 202, { activationId }, { 'x-openwhisk-activation-id': activationId });
    }
    if (first === 'throttled') return error(res, 429, `Too many concurrent requests in flight (count: ${fn.spec.concurrency}, allowed: ${fn.spec.concurrency}).`);
    const status = httpStatusOf(first.response.status);
    sendJson(res, status, resultOnly ? first.response.result : first, { 'x-openwhisk-activation-id': activationId });
  }

  async function activate(fn: EmulatedFunction, activationId: string, payload: string): Promise<ActivationRecord | 'throttled'> {
    const start = Date.now();
    const { spec } = fn;
    const timeoutMs = Math.round(spec.timeoutS * 1000);
    const run = await fn.pool.run({
      t: 'invoke',
      id: activationId,
      payload,
      deadline: start + timeoutMs,
      env: { __OW_ACTIVATION_ID: activationId, __OW_ACTION_NAME: `/${namespace}/${spec.name}`, __OW_DEADLINE: String(start + timeoutMs), __OW_TRANSACTION_ID: randomUUID().replace(/-/g, '') },
    });
    if (run.throttled) return 'throttled';
    const rec = buildActivation({ namespace, action: spec.name, activationId, start, run, waitMs: 0, limits: { memoryMB: spec.memoryMB, timeoutMs, concurrency: spec.concurrency, maxResultBytes: maxResult } });
    activations.set(activationId, rec);
    if (activations.size > 1000) activations.delete(activations.keys().next().value!);
    opts.onActivation?.(rec);
    events.emit('activation', rec);
    return rec;
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) error(res, 500, `The server encountered an internal error: ${(err as Error)?.message ?? err}`);
    });
  });
  server.keepAliveTimeout = 60_000;
  let url: string;
  try {
    url = await listen(server, opts.host ?? '127.0.0.1', opts.port ?? 0);
  } catch (err) {
    await closeFunctions(fns);
    throw err;
  }
  return {
    url,
    auth,
    events,
    activations,
    stats: () => Object.fromEntries([...fns].map(([n, f]) => [n, f.pool.stats()])),
    async close() {
      await closeServer(server);
      await closeFunctions(fns);
    },
  };
}
