/**
 * The process that runs one function instance, like Lambda's runtime interface client or
 * OpenWhisk's action proxy: it loads the artifact's handler once (init, part of the cold start),
 * then serves invocations one at a time over IPC. argv: mode, task root, handler
 * (`index.handler` for Lambda, the exported function name for OpenWhisk).
 */
import path from 'node:path';
import util from 'node:util';
import { describeError, type InstanceMessage, type InvokeMessage, type RuntimeMode } from './ipc';

const [mode, taskRoot, handlerSpec] = process.argv.slice(2) as [RuntimeMode, string, string];
let current: InvokeMessage | undefined;

function send(msg: InstanceMessage, then?: () => void): void {
  process.send?.(msg, undefined, undefined, then ? () => then() : undefined);
}

/** Exits once the last message is written: a plain exit could drop queued IPC messages. */
function sendAndExit(msg: InstanceMessage): void {
  send(msg, () => process.exit(1));
}

// Output goes over IPC so it stays ordered with the result and is attributed to its invocation.
for (const s of ['stdout', 'stderr'] as const) {
  const stream = process[s];
  stream.write = ((chunk: unknown, enc?: unknown, cb?: unknown) => {
    send({ t: 'log', s, d: typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8') });
    const done = typeof enc === 'function' ? enc : cb;
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  }) as typeof stream.write;
}
if (mode === 'lambda') {
  // Lambda's Node runtime prefixes each console line with time, request id and level.
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' } as const;
  for (const [fn, level] of Object.entries(levels)) {
    (console as unknown as Record<string, unknown>)[fn] = (...args: unknown[]) => {
      const line = `${new Date().toISOString()}\t${current?.id ?? 'undefined'}\t${level}\t${util.format(...args)}\n`;
      process.stdout.write(line.replace(/\n(?!$)/g, '\r'));
    };
  }
}

function loadHandler(): (...args: unknown[]) => unknown {
  if (mode === 'lambda') {
    const dot = handlerSpec.lastIndexOf('.');
    const file = handlerSpec.slice(0, dot);
    const name = handlerSpec.slice(dot + 1);
    const mod = require(path.resolve(taskRoot, file));
    const fn = mod?.[name];
    if (typeof fn !== 'function') throw Object.assign(new Error(`${file}.${name} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
    return fn;
  }
  const mod = require(path.resolve(taskRoot));
  const fn = mod?.[handlerSpec] ?? (handlerSpec === 'main' && typeof mod === 'function' ? mod : undefined);
  if (typeof fn !== 'function') throw new Error(`Action entrypoint '${handlerSpec}' is not a function`);
  return fn;
}

let handler: (...args: unknown[]) => unknown;
try {
  handler = loadHandler();
  send({ t: 'ready' });
} catch (err) {
  const d = describeError(err);
  if (mode === 'lambda' && d.errorType !== 'Runtime.HandlerNotFound') d.errorType = 'Runtime.ImportModuleError';
  sendAndExit({ t: 'init-error', ...d });
}

const maxRssKB = () => process.resourceUsage().maxRSS;

function finish(id: string, outcome: { value: unknown } | { error: unknown }, fatal = false): void {
  if (!current || current.id !== id) return;
  current = undefined;
  if ('error' in outcome) {
    const msg: InstanceMessage = { t: 'result', id, ok: false, ...describeError(outcome.error), maxRssKB: maxRssKB(), fatal };
    return fatal ? sendAndExit(msg) : send(msg);
  }
  let body: string;
  try {
    body = JSON.stringify(outcome.value === undefined ? null : outcome.value);
  } catch (err) {
    send({ t: 'result', id, ok: false, ...describeError(err), errorType: 'Runtime.MalformedHandlerResponse', maxRssKB: maxRssKB() });
    return;
  }
  send({ t: 'result', id, ok: true, body, maxRssKB: maxRssKB() });
}

async function run(msg: InvokeMessage): Promise<void> {
  current = msg;
  Object.assign(process.env, msg.env);
  const event = JSON.parse(msg.payload);
  if (mode === 'openwhisk') return finish(msg.id, { value: await handler(event) });
  const context = {
    ...msg.context,
    awsRequestId: msg.id,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, msg.deadline - Date.now()),
  };
  if (handler.length >= 3) {
    // Callback-style handler: the first of callback or returned promise wins.
    await new Promise<void>((resolve) => {
      const cb = (err: unknown, value: unknown) => {
        finish(msg.id, err ? { error: err } : { value });
        resolve();
      };
      const r = handler(event, context, cb) as Promise<unknown> | undefined;
      if (r && typeof r.then === 'function') r.then((value) => cb(null, value), (err) => cb(err ?? new Error('rejected'), undefined));
    });
    return;
  }
  finish(msg.id, { value: await handler(event, context) });
}

process.on('message', (msg: InvokeMessage) => {
  if (msg?.t !== 'invoke') return;
  run(msg).catch((err) => finish(msg.id, { error: err }));
});

// A throw outside the handler's promise chain kills the instance, as on Lambda: report it, then exit.
process.on('uncaughtException', (err) => {
  if (current) finish(current.id, { error: err }, true);
  else process.exit(1);
});
