/**
 * A local AWS Lambda: the Invoke REST API (`POST /2015-03-31/functions/:name/invocations`) faithful
 * enough for `@aws-sdk/client-lambda` unchanged, running each function's artifact in separate
 * instance processes with Lambda's cold/warm lifecycle, limits and REPORT accounting.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { closeFunctions, prepareFunctions, type EmulatedFunction } from '../common/functions';
import type { FunctionSpec } from '../common/function-spec';
import { closeServer, listen, readBody, sendJson } from '../common/http';
import { functionError, invocationLog, logTail, MAX_SYNC_PAYLOAD, sendApiError, type Report } from './wire';

export interface LambdaEmulatorOptions {
  host?: string;
  port?: number;
  functions: FunctionSpec[];
  region?: string;
  /** Called with every invocation's REPORT (the CLI prints them). */
  onReport?: (report: Report, log: string) => void;
}

export interface LambdaEmulator {
  url: string;
  /** 'report' (Report), 'instance-start' and 'instance-exit' ({function, id, pid}). */
  events: EventEmitter;
  reports: Report[];
  stats(): Record<string, ReturnType<EmulatedFunction['pool']['stats']>>;
  close(): Promise<void>;
}

const ACCOUNT = '000000000000';
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

export async function startLambdaEmulator(opts: LambdaEmulatorOptions): Promise<LambdaEmulator> {
  const region = opts.region ?? 'us-east-1';
  const events = new EventEmitter();
  const arn = (name: string, q?: string) => `arn:aws:lambda:${region}:${ACCOUNT}:function:${name}${q ? ':' + q : ''}`;
  const fns = await prepareFunctions('lambda', opts.functions, { handler: 'index.handler', memoryMB: 128, timeoutS: 3, concurrency: 10, idleTimeoutS: 300 }, (s, taskRoot) => ({
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_LAMBDA_FUNCTION_NAME: s.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(s.memoryMB),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
    LAMBDA_TASK_ROOT: taskRoot,
    _HANDLER: s.handler,
    NODE_OPTIONS: '',
  }), events);
  const reports: Report[] = [];

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/_emulator/stats' && req.method === 'GET') return sendJson(res, 200, { functions: stats(), reports: reports.length });
    const m = INVOKE_PATH.exec(url.pathname);
    if (!m || req.method !== 'POST') return sendApiError(res, requestId, 404, 'UnknownOperationException', 'Unknown operation');
    // The name may be a plain name, name:qualifier, or a full ARN.
    let name = decodeURIComponent(m[1]);
    let qualifier = url.searchParams.get('Qualifier') ?? undefined;
    const arnMatch = /^arn:aws:lambda:[^:]*:[^:]*:function:([^:]+)(?::(.+))?$/.exec(name) ?? /^([^:]+):(.+)$/.exec(name);
    if (arnMatch) [name, qualifier] = [arnMatch[1], qualifier ?? arnMatch[2]];
    const fn = fns.get(name);
    // Versions are not modelled: $LATEST, a number or an alias all run the one deployed artifact.
    if (!fn || (qualifier !== undefined && !/^(\$LATEST|[0-9]+|[A-Za-z0-9_-]+)$/.test(qualifier))) {
      return sendApiError(res, requestId, 404, 'ResourceNotFoundException', `Function not found: ${arn(name, qualifier)}`, { Message: `Function not found: ${arn(name, qualifier)}` });
    }
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
      return sendApiError(res, requestId, 400, 'InvalidParameterValueException', `Unsupported invocation type: ${type}`);
    }
    const body = await readBody(req, MAX_SYNC_PAYLOAD);
    if (!body.ok) {
      return sendApiError(res, requestId, 413, 'RequestTooLargeException', `Request must be smaller than ${MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation`);
    }
    const payload = body.body.length ? body.body.toString('utf8') : '{}';
    try {
      JSON.parse(payload);
    } catch (err) {
      return sendApiError(res, requestId, 400, 'InvalidRequestContentException', `Could not parse request body into json: ${(err as Error).message}`);
    }
    const version = qualifier && /^[0-9]+$/.test(qualifier) ? qualifier : '$LATEST';
    if (type === 'DryRun') return void res.writeHead(204, { 'x-amzn-requestid': requestId }).end();
    const running = invoke(fn, requestId, version, payload, req.headers['x-amz-log-type'] === 'Tail');
    if (type === 'Event') {
      // Asynchronous: accepted at once; the result is not returned to anyone.
      running.catch(() => {});
      return void res.writeHead(202, { 'x-amzn-requestid': requestId, 'content-length': '0' }).end();
    }
    const out = await running;
    if (out.throttled) {
      return sendApiError(res, requestId, 429, 'TooManyRequestsException', 'Rate Exceeded.', { Reason: 'ConcurrentInvocationLimitExceeded' });
    }
    const headers: Record<string, string> = { 'x-amzn-requestid': requestId, 'x-amz-executed-version': version };
    if (out.log !== undefined) headers['x-amz-log-result'] = logTail(out.log);
    if (out.error) headers['x-amz-function-error'] = 'Unhandled';
    sendJson(res, 200, out.error ? JSON.stringify(out.error) : out.body!, headers);
  }

  async function invoke(fn: EmulatedFunction, requestId: string, version: string, payload: string, tail: boolean) {
    const { spec } = fn;
    const run = await fn.pool.run({
      t: 'invoke',
      id: requestId,
      payload,
      deadline: Date.now() + spec.timeoutS * 1000,
      env: { _X_AMZN_TRACE_ID: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${requestId.replace(/-/g, '').slice(0, 24)}` },
      context: {
        functionName: spec.name,
        functionVersion: version,
        invokedFunctionArn: arn(spec.name),
        memoryLimitInMB: String(spec.memoryMB),
        logGroupName: `/aws/lambda/${spec.name}`,
        logStreamName: '',
      },
    });
    if (run.throttled) return { throttled: true as const };
    let error: ReturnType<typeof functionError> | undefined;
    let body: string | undefined;
    let durationMs = 0;
    let logs: string[] = [];
    let maxMemoryUsedMB = 0;
    let extra: string | undefined;
    if (run.initError) {
      error = run.initError;
    } else {
      ({ durationMs, logs, maxMemoryMB: maxMemoryUsedMB } = run);
      if (run.outcome.kind === 'ok' && Buffer.byteLength(run.outcome.body) > MAX_SYNC_PAYLOAD) {
        error = { errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_SYNC_PAYLOAD} bytes).` };
      } else if (run.outcome.kind === 'ok') {
        body = run.outcome.body;
      } else {
        error = functionError(requestId, run.outcome, spec.timeoutS);
        if (run.outcome.kind === 'timeout') extra = `Task timed out after ${spec.timeoutS.toFixed(2)} seconds`;
      }
    }
    const report: Report = {
      function: spec.name,
      requestId,
      version,
      durationMs,
      billedMs: Math.max(1, Math.ceil(durationMs)),
      memoryMB: spec.memoryMB,
      maxMemoryUsedMB: Math.max(maxMemoryUsedMB, 1),
      initMs: run.cold ? run.initMs : undefined,
      status: error ? error.errorType : 'ok',
    };
    reports.push(report);
    if (reports.length > 1000) reports.shift();
    const log = invocationLog(report, logs, extra);
    opts.onReport?.(report, log);
    events.emit('report', report, log);
    return { throttled: false as const, error, body, log: tail ? log : undefined };
  }

  function stats() {
    return Object.fromEntries([...fns].map(([n, f]) => [n, f.pool.stats()]));
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendApiError(res, randomUUID(), 500, 'ServiceException', String((err as Error)?.message ?? err));
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
    events,
    reports,
    stats,
    async close() {
      await closeServer(server);
      await closeFunctions(fns);
    },
  };
}
