import { INVOCATION_VERSION, type InvocationEvent, type InvocationResult, type Outcome, type PropChanges } from '../protocol';
import { channelFor, dropChannel } from './channel/client';
import { WorkerErrors } from './errors';
import { makeRequest, REQ_PLUMBING, ResponseRecorder, type ReqSnapshot, type ResInit } from './http-shims';
import { Invocation } from './invocation';
import { attachSession, type SessionSnapshot, type SessionStep } from './session-shims';
import { installWorld, nextTurn, WorldGuard, withWorld, type Effect } from './world';
import { nestHandler, PostReturnWork, settleNestValue, type NestCallInfo } from './nest-call';
import { startLogRecording, stopLogRecording } from './nest-logger';
import { describeCallbacks } from './callbacks';
import { packageInstanceWrite } from './package-setup';

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
  installWorld();
  const t0 = performance.now();
  const channel = channelFor(event.channel);
  const invocation = new Invocation(event, channel);
  (globalThis as Record<symbol, unknown>)[kCurrent] = invocation;
  try {
    const bytes = event.closure !== undefined ? Buffer.from(event.closure, 'base64') : await invocation.fetchClosure();
    const root = invocation.decode(bytes) as ClosureRoot;
    if (!root || typeof root.handler !== 'function' || !root.req || !root.res) throw WorkerErrors.BAD_EVENT('closure lacks handler, req or res');
    const t1 = performance.now();
    const world = new WorldGuard([channelEndpoint(event.channel), ...invocation.endpoints].filter((e): e is { host: string; port: number } => !!e));
    const outcome = await withWorld(world, async () => {
      let out: Outcome;
      let closed = false;
      try {
        out = await run(root, invocation, world, event.timeoutMs);
      } finally {
        // The hand-off ends before the server replays: the server's client is its own again.
        closed = invocation.closers.length > 0;
        await invocation.closeUnpacked();
      }
      // A channel call failed during the run: whatever the handler made of it, it is not the outcome.
      if (invocation.failure) throw invocation.failure;
      // What closing a connection ends (its idle timer) may end on the next turns. With nothing
      // closed, the handler's short work is already done (run() waited for it).
      if (closed) {
        await nextTurn();
        await nextTurn();
      }
      world.finishPending();
      return out;
    });
    if (world.refusal) throw world.refusal;
    const t2 = performance.now();
    let bytesOut: Buffer;
    try {
      bytesOut = invocation.encode(outcome);
    } catch (err) {
      // A function made here cannot reach the server's state: this handler cannot be offloaded.
      if (WorkerErrors.NEW_FUNCTION.is(err)) throw WorkerErrors.REFUSED((err as Error).message, { cause: err });
      throw err;
    }
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

async function run(root: ClosureRoot, inv: Invocation, world: WorldGuard, timeoutMs: number): Promise<Outcome> {
  // A Nest method's post-return work and Logger calls are tracked around the call itself.
  const post = root.style === 'call' ? new PostReturnWork() : undefined;
  try {
    return await runWith(root, inv, world, timeoutMs, post);
  } finally {
    post?.dispose();
    if (post) stopLogRecording();
  }
}

async function runWith(root: ClosureRoot, inv: Invocation, world: WorldGuard, timeoutMs: number, post: PostReturnWork | undefined): Promise<Outcome> {
  const deadline = performance.now() + timeoutMs;
  const refuse = (reason: string) => world.refuse(reason);
  const load = (spec: string) => inv.requirePackage(spec);
  const req = makeRequest(root.req, load, inv.reqTarget);
  const rec = new ResponseRecorder(root.res, req, refuse, load, inv.resTarget);
  let next: unknown[] | undefined;
  let thrown: unknown;
  let value: unknown;
  let settled = false;
  const nextFn = (...args: unknown[]) => {
    next = args.slice(0, 1);
    rec.finish();
  };
  Object.defineProperty(req, 'res', { value: rec.res, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(req, 'next', { value: nextFn, writable: true, enumerable: true, configurable: true });
  const session = root.req.session ? attachSession(req, root.req.session as SessionSnapshot, refuse, (fn) => setImmediate(fn)) : undefined;
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
  if (root.style === 'express' && thrown === undefined && !rec.finished && !world.refusal) await withTimeout(rec.done, timeoutMs);
  let logs: unknown[] | undefined;
  if (post) {
    try {
      if (thrown === undefined) value = await settleNestValue(value, remaining);
      await post.settle(remaining);
    } finally {
      logs = stopLogRecording();
    }
  }
  // What the handler left pending (a timer after res.json, a callback's I/O) completes here, before
  // the commit: the server replays the response only after it.
  if (!world.refusal) await world.settle(deadline);
  const envKey = inv.envWrite();
  if (envKey !== undefined) world.refuse(`writes process.env.${envKey}: the environment is the server's`);
  const changedInstance = packageInstanceWrite(inv.packageInstances);
  if (changedInstance !== undefined) world.refuse(`changes its instance of ${changedInstance}, whose state is the server's`);
  if (world.refusal) throw world.refusal;
  // Callbacks left for the response are described as they stand now, when the handler is done.
  const calls = describeCallbacks(rec.calls, { inv, req, res: rec.res, next: nextFn, refuse: (r) => world.refuse(r) });
  const out: Outcome = {
    logs,
    calls,
    statusCode: rec.statusCode,
    next,
    value: root.style === 'call' ? value : undefined,
    thrown,
    changes: inv.diff(),
  };
  if (root.style === 'express') {
    const reqChanges = diffOwn(req, { ...root.req.props, headers: root.req.headers }, REQ_PLUMBING);
    if (reqChanges) out.req = reqChanges;
    const resChanges = diffOwn(rec.res, { ...(root.res.props ?? {}), locals: root.res.locals }, RES_PLUMBING);
    if (resChanges) out.res = resChanges;
  }
  const steps = session?.steps();
  if (steps?.length) out.session = steps;
  if (world.effects.length) out.effects = world.effects;
  const reads = inv.remoteReads();
  if (reads.length) out.reads = reads;
  return out;
}

const RES_PLUMBING = new Set(['req', 'app']);

/** Own enumerable properties set or deleted since `initial`, by identity. */
function diffOwn(obj: Record<string, unknown>, initial: Record<string, unknown>, skip: Set<string>): PropChanges | undefined {
  const set: Array<[string, unknown]> = [];
  const del: string[] = [];
  const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  for (const k of Object.keys(obj)) {
    // `_`-prefixed fields are caches of Express and Node (`_parsedUrl`): never shipped, never returned.
    if (skip.has(k) || k.charCodeAt(0) === 95) continue;
    const v = obj[k];
    if (!has(initial, k) || !Object.is(initial[k], v)) set.push([k, v]);
  }
  for (const k of Object.keys(initial)) if (!skip.has(k) && !has(obj, k)) del.push(k);
  return set.length || del.length ? { set, del } : undefined;
}

/** The channel's host and port, by URL: a warm worker serves the same server invocation after invocation. */
const endpoints = new Map<string, { host: string; port: number } | undefined>();
export function channelEndpoint(url: string): { host: string; port: number } | undefined {
  if (endpoints.has(url)) return endpoints.get(url);
  let ep: { host: string; port: number } | undefined;
  try {
    const u = new URL(url);
    ep = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || (u.protocol === 'wss:' ? 443 : 80) };
  } catch {
    ep = undefined;
  }
  if (endpoints.size >= 64) endpoints.clear();
  endpoints.set(url, ep);
  return ep;
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
