import { INVOCATION_VERSION, type InvocationEvent, type InvocationResult, type Outcome } from '../protocol';
import { channelFor, dropChannel } from './channel/client';
import { WorkerErrors } from './errors';
import { makeRequest, ResponseRecorder, type ReqSnapshot, type ResInit } from './http-shims';
import { Invocation } from './invocation';
import { nestHandler, PostReturnWork, settleNestValue, type NestCallInfo } from './nest-call';
import { startLogRecording, stopLogRecording } from './nest-logger';

/** What the agent ships: see agent/capture. */
export interface ClosureRoot {
  handler: Function;
  self?: unknown;
  req: ReqSnapshot;
  res: ResInit;
  /** Express ≥ 5 passes a rejected promise to next(err). */
  awaitPromise: boolean;
  /** Extra arguments for non-Express handlers (Nest controller methods). */
  args?: unknown[];
  /** `express` handler(req,res,next) or a plain `call` returning a value (Nest). */
  style: 'express' | 'call';
  /** `call` style: where the method sits on `self`'s class (see nest-call.ts). */
  nest?: NestCallInfo;
  /** `call` style: argument positions that stand for the request and the response shims. */
  reqArgs?: number[];
  resArgs?: number[];
}

/** What an invocation returns: the contract type lives in protocol/. */
export type { Outcome } from '../protocol';

const kCurrent = Symbol.for('beehive.invocation');
let busy = false;

/**
 * The provider-neutral worker runtime: one invocation at a time, as on Lambda. Never throws: a
 * malformed event or a failing handler comes back as `{ok:false}` with a coded error, and the
 * server then runs the request locally.
 */
export async function handleInvocation(event: InvocationEvent, meta?: InvocationResult['worker']): Promise<InvocationResult> {
  const inv = typeof event?.inv === 'string' ? event.inv : '';
  const fail = (err: unknown): InvocationResult => ({
    beehive: INVOCATION_VERSION,
    inv,
    ok: false,
    error: { code: (err as { code?: string })?.code ?? WorkerErrors.UNSUPPORTED.code, message: String((err as Error)?.message ?? err) },
    worker: meta,
  });
  const bad = validate(event);
  if (bad) return fail(WorkerErrors.BAD_EVENT(bad));
  if (busy) return fail(WorkerErrors.BUSY());
  busy = true;
  const t0 = performance.now();
  const channel = channelFor(event.channel);
  const invocation = new Invocation(event, channel);
  (globalThis as Record<symbol, unknown>)[kCurrent] = invocation;
  try {
    const bytes = event.closure !== undefined ? Buffer.from(event.closure, 'base64') : await invocation.fetchClosure();
    const root = invocation.decode(bytes) as ClosureRoot;
    if (!root || typeof root.handler !== 'function' || !root.req || !root.res) throw WorkerErrors.BAD_EVENT('closure lacks handler, req or res');
    const t1 = performance.now();
    let outcome: Outcome;
    try {
      outcome = await run(root, invocation, event.timeoutMs);
    } finally {
      // The hand-off ends before the server replays: the server's client is its own again.
      await invocation.closeUnpacked();
    }
    // A channel call failed during the run: whatever the handler made of it, it is not the outcome.
    if (invocation.failure) throw invocation.failure;
    const t2 = performance.now();
    const bytesOut = invocation.encode(outcome);
    return {
      beehive: INVOCATION_VERSION,
      inv,
      ok: true,
      outcome: bytesOut.toString('base64'),
      timings: { decode: t1 - t0, run: t2 - t1, encode: performance.now() - t2, fetches: invocation.fallbacks },
      worker: meta,
    };
  } catch (err) {
    if ((err as { code?: string })?.code === 'BEEHIVE_ERR_CHANNEL_CLOSED') dropChannel(event.channel);
    return fail(err);
  } finally {
    invocation.release();
    delete (globalThis as Record<symbol, unknown>)[kCurrent];
    busy = false;
  }
}

async function run(root: ClosureRoot, inv: Invocation, timeoutMs: number): Promise<Outcome> {
  const post = root.style === 'call' ? new PostReturnWork() : undefined;
  try {
    return await runWith(root, inv, timeoutMs, post);
  } finally {
    post?.dispose();
    if (post) stopLogRecording();
  }
}

async function runWith(root: ClosureRoot, inv: Invocation, timeoutMs: number, post: PostReturnWork | undefined): Promise<Outcome> {
  const req = makeRequest(root.req);
  const rec = new ResponseRecorder(root.res, req);
  req.res = rec.res;
  let next: unknown[] | undefined;
  let thrown: unknown;
  let value: unknown;
  let settled = false;
  const nextFn = (...args: unknown[]) => {
    next = args.slice(0, 1);
    rec.finish();
  };
  let ret: unknown;
  const start = performance.now();
  const remaining = () => timeoutMs - (performance.now() - start);
  try {
    if (root.style === 'call') {
      const args = [...(root.args ?? [])];
      for (const i of root.reqArgs ?? []) args[i] = req;
      for (const i of root.resArgs ?? []) args[i] = rec.res;
      const fn = nestHandler(root.self, root.handler, root.nest);
      startLogRecording();
      ret = post!.run(() => fn.apply(root.self, args));
    } else ret = root.handler.call(root.self, req, rec.res, nextFn);
  } catch (err) {
    if (WorkerErrors.REFUSED.is(err)) throw err;
    thrown = err;
    settled = true;
  }
  if (!settled && ret && typeof (ret as Promise<unknown>).then === 'function') {
    try {
      value = await withTimeout(Promise.resolve(ret), timeoutMs);
    } catch (err) {
      if (WorkerErrors.TIMEOUT.is(err)) throw err;
      if (root.awaitPromise || root.style === 'call' || !rec.finished) thrown = err;
    }
  } else if (!settled) {
    value = ret;
  }
  if (root.style === 'express' && thrown === undefined && !rec.finished) await withTimeout(rec.done, timeoutMs);
  let logs: unknown[] | undefined;
  if (post) {
    try {
      if (thrown === undefined) value = await settleNestValue(value, remaining);
      await post.settle(remaining);
    } finally {
      logs = stopLogRecording();
    }
  }
  return {
    logs,
    calls: rec.calls,
    statusCode: rec.statusCode,
    next,
    value: root.style === 'call' ? value : undefined,
    thrown,
    changes: inv.diff(),
    fetched: inv.fetched,
    fallbacks: inv.fallbacks,
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(WorkerErrors.TIMEOUT(`no response within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

function validate(e: InvocationEvent): string | undefined {
  if (!e || typeof e !== 'object') return 'event is not an object';
  if (e.beehive !== INVOCATION_VERSION) return `event version ${String(e.beehive)} is not ${INVOCATION_VERSION}`;
  if (typeof e.inv !== 'string' || !e.inv) return 'inv must be a non-empty string';
  if (typeof e.cap !== 'string' || e.cap.length < 16) return 'cap must be a capability token';
  if (typeof e.channel !== 'string' || !/^wss?:\/\//.test(e.channel)) return 'channel must be a ws:// or wss:// URL';
  if (e.closure !== undefined && typeof e.closure !== 'string') return 'closure must be base64';
  if (e.closure === undefined && typeof e.closureRef !== 'string') return 'closure or closureRef is required';
  if (typeof e.timeoutMs !== 'number' || !(e.timeoutMs > 0)) return 'timeoutMs must be a positive number';
  return undefined;
}

/** The invocation running on this worker, for beehive.lock(). */
export function currentInvocation(): Invocation | undefined {
  return (globalThis as Record<symbol, Invocation | undefined>)[kCurrent];
}
