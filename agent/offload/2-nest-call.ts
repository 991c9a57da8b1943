import { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { types } from 'node:util';
import type { Request, Response } from 'express';
import { markStructural } from '../capture/closure';
import type { HandlerEntry } from '../registry';
import { methodReach, unreachedFields } from './2-nest-reach';
import { functionInfo } from '../capture/function-record';
import { readScopes } from '../capture/inspector';
import { originOf } from '../capture/module-index';
import { debug } from '../debug';
import { CaptureErrors } from '../capture/errors';
import { replayResponse } from './5-replay';
import { snapshotRequest, snapshotResponse } from './2-request-snapshot';

/**
 * The server half of offloading a Nest controller method (the worker half is
 * offload-worker/nest-call.ts): the closure root, and what the worker's outcome becomes here.
 */

/** Where the method sits on the controller class: its name and how many prototypes up. */
export interface NestMethodInfo {
  method: string;
  depth: number;
}
const methods = new WeakMap<HandlerEntry, NestMethodInfo>();

export function setNestMethod(entry: HandlerEntry, info: NestMethodInfo): void {
  methods.set(entry, info);
}

export interface NestCall {
  root: object;
  /** The real response an `@Res()` argument stands for: the worker's recorded calls replay on it. */
  res?: Response;
}

/**
 * `@Req()` and `@Res()` arguments are the live Express objects: they travel as the request snapshot
 * and the recording response of an Express handler (same fields, same replay), the rest of the
 * arguments (what Nest's pipes produced) as values.
 */
export function nestRoot(entry: HandlerEntry, self: unknown, args: unknown[]): NestCall {
  const live = liveRequestPath(self);
  if (live) {
    // A request-scoped provider holding Nest's REQUEST: the live request is transport state (its
    // socket, its stream); a copy would answer differently. Such a controller runs here.
    throw Object.assign(CaptureErrors.UNSUPPORTED(`holds the live request: IncomingMessage reached as ${live} (a request-scoped provider); it runs on the server`), { notOffloadable: true });
  }
  const shipped = [...args];
  const reqArgs: number[] = [];
  const resArgs: number[] = [];
  let req: Request | undefined;
  let res: Response | undefined;
  args.forEach((a, i) => {
    if (a instanceof IncomingMessage) {
      req = a as Request;
      reqArgs.push(i);
      shipped[i] = undefined;
    } else if (a instanceof ServerResponse) {
      res = a as Response;
      resArgs.push(i);
      shipped[i] = undefined;
    }
  });
  req ??= (res as { req?: Request } | undefined)?.req;
  const reqSnap = req ? snapshotRequest(req) : { props: {}, headers: {}, app: { locals: {}, settings: {} } };
  const resSnap = res ? snapshotResponse(res) : { locals: {}, statusCode: 200, headers: {} };
  const root = {
    handler: entry.fn,
    self,
    args: shipped,
    style: 'call',
    awaitPromise: true,
    nest: methods.get(entry),
    reqArgs,
    resArgs,
    req: reqSnap,
    res: resSnap,
  };
  markStructural(root, root.args, root.req, root.req.props, root.req.app, root.res, root.nest, reqArgs, resArgs);
  return { root, res };
}

const kObservable = Symbol.for('beehive.nest.observable');
const kFile = Symbol.for('beehive.nest.streamable');

/**
 * The worker's value as Nest expects it here: the response calls an `@Res()` made are replayed; a
 * collected Observable becomes one that replays its notifications; a StreamableFile is rebuilt
 * around its bytes, as an instance of the server's class (Nest checks `instanceof`).
 */
export function nestValue(call: NestCall, outcome: { value?: unknown; calls: unknown[] }): unknown {
  if (call.res && outcome.calls.length) replayResponse(call.res, outcome.calls);
  const v = outcome.value as Record<symbol, unknown> | undefined;
  if (!v || typeof v !== 'object') return v;
  if (v[kObservable] === true) {
    const rec = v as unknown as { values: unknown[]; failed: boolean; error?: unknown };
    const { Observable } = rxjs();
    return new Observable((sub: { next(v: unknown): void; error(e: unknown): void; complete(): void }) => {
      for (const x of rec.values) sub.next(x);
      if (rec.failed) sub.error(rec.error);
      else sub.complete();
    });
  }
  if (v[kFile] === true) {
    const rec = v as unknown as { ctor: new (b: Buffer, o: unknown) => unknown; bytes: Uint8Array; options: Record<string, unknown> };
    return new rec.ctor(Buffer.from(rec.bytes), rec.options);
  }
  return v;
}

let rx: { Observable: new (f: (sub: never) => void) => unknown } | undefined;
/** Nest recognises Observables by shape (`isObservable`), so the app's rxjs serves. */
function rxjs(): { Observable: new (f: (sub: never) => void) => unknown } {
  rx ??= createRequire(path.join(process.env.BEEHIVE_APP_ROOT ?? process.cwd(), 'noop.js'))('rxjs');
  return rx!;
}

/** A refusal the worker sent (WORKER_REFUSED): the method is not offloadable, for the reason given. */
export function markWorkerRefusal(err: unknown): void {
  const e = err as { code?: string; notOffloadable?: boolean };
  if (e && typeof e === 'object' && e.code === 'BEEHIVE_ERR_WORKER_REFUSED') e.notOffloadable = true;
}

const reach = new WeakMap<Function, Set<string> | 'all'>();

/**
 * A class some of whose methods assign a captured `let` may travel when this route's method cannot
 * run those methods (nest-reach.ts): on the worker they are never called. That holds for the
 * controller's own classes and for the services its method reaches through `this` chains
 * (`this.counter.read()`), provided every instance of the class the code can reach is one of those
 * receivers: none is named by the reached code, held in a value the code takes whole, or in what the
 * reached functions capture. Anything less certain keeps the refusal.
 */
export function nestAllowsMemberWrites(entry: HandlerEntry, self: unknown, cls: object, members: string[]): boolean {
  if (self === null || typeof self !== 'object' || typeof cls !== 'function') return false;
  const proto = (cls as { prototype?: unknown }).prototype;
  if (!proto || typeof proto !== 'object') return false;
  const isInstance = (o: unknown): boolean => o !== null && typeof o === 'object' && Object.prototype.isPrototypeOf.call(proto, o);
  const r = methodReach(self, entry.fn);
  let receiver = false;
  for (const [recv, names] of r.receivers) {
    if (!isInstance(recv)) continue;
    receiver = true;
    if (names === 'all' || members.some((m) => names.has(m))) return false;
  }
  if (!receiver) return false;
  const name = (cls as Function).name;
  const named = name && new RegExp(`(?:^|[^\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`);
  const roots: unknown[] = [...r.escaped];
  for (const fn of r.fns) {
    if (named && named.test(Function.prototype.toString.call(fn))) return false;
    let info;
    try {
      info = functionInfo(fn);
    } catch {
      // Not analysable alone (a method using #private travels inside its class, whose captured
      // values are looked at as the class's); one that cannot travel at all is refused by the capture.
      continue;
    }
    roots.push(...info.stable.values());
    if (info.volatile.size) for (const s of readScopes(fn, info.volatile)) roots.push(...s.values.values());
  }
  return !holdsInstance(roots, isInstance, new Set(r.receivers.keys()));
}

/** Whether an instance of the class is among `roots` or what they hold (bounded: too much to look through counts as yes). */
function holdsInstance(roots: unknown[], isInstance: (o: unknown) => boolean, receivers: Set<object>): boolean {
  const seen = new Set<object>();
  const stack = [...roots];
  let budget = 20000;
  while (stack.length) {
    const o = stack.pop();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
    seen.add(o);
    if (isInstance(o)) return true;
    // A receiver's fields are reached only through the chains already followed; a package's exports hold no app instance.
    if (receivers.has(o) || originOf(o)) continue;
    if (--budget < 0) return true;
    if (o instanceof Map) for (const [k, v] of o) stack.push(k, v);
    else if (o instanceof Set) for (const v of o) stack.push(v);
    if (ArrayBuffer.isView(o)) continue;
    for (const k of Object.keys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (d && 'value' in d) stack.push(d.value);
      else return true;
    }
  }
  return false;
}

/** The controller's fields this method does not reach: remote references (nest-reach.ts). */
export function nestRemote(entry: HandlerEntry, self: unknown): Set<object> | undefined {
  return unreachedFields(self, entry.fn, reach);
}

/**
 * A capture refusal names the value ("unregistered symbol Symbol(tag)", "class VaultService"); for a
 * controller method this adds where the method reaches it: `this.tags.kind`, held by an instance of
 * which class, declared at which line.
 */
export function explainNestRefusal(err: unknown, self: unknown): void {
  try {
    locate(err, self);
  } catch (e) {
    // The refusal stands as the capture worded it.
    debug('agent', `locating a refused value: ${(e as Error).message}`);
  }
}

function locate(err: unknown, self: unknown): void {
  const e = err as { message?: string; notOffloadable?: boolean };
  if (!e?.notOffloadable || typeof e.message !== 'string' || self === null || typeof self !== 'object') return;
  const sym = /unregistered symbol (Symbol\(.*?\))/.exec(e.message)?.[1];
  const cls = /(?:class|instance of) ([A-Za-z_$][\w$]*)/.exec(e.message)?.[1];
  const weak = /: an? (WeakMap|WeakSet) \(/.exec(e.message)?.[1];
  if (!sym && !cls && !weak) return;
  const seen = new Set<object>([self]);
  const queue: Array<[object, string]> = [[self, 'this']];
  let n = 0;
  for (; queue.length && n < 20000; n++) {
    const [o, at] = queue.shift()!;
    if (weak && (weak === 'WeakMap' ? types.isWeakMap(o) : types.isWeakSet(o))) {
      e.message += ` (reached as ${at})`;
      return;
    }
    if (cls && o !== self && (typeof o === 'function' ? (o as Function).name === cls : (o as { constructor?: { name?: string } }).constructor?.name === cls)) {
      e.message += ` (reached as ${at})`;
      return;
    }
    let keys: Array<string | symbol>;
    try {
      keys = Reflect.ownKeys(o);
    } catch {
      continue;
    }
    for (const k of keys) {
      let v: unknown;
      try {
        const d = Object.getOwnPropertyDescriptor(o, k);
        if (!d || !('value' in d)) continue;
        v = d.value;
      } catch {
        continue;
      }
      const where = typeof k === 'symbol' ? `${at}[${String(k)}]` : `${at}.${k}`;
      if (sym && ((typeof v === 'symbol' && String(v) === sym) || (typeof k === 'symbol' && String(k) === sym))) {
        const holder = (o as { constructor?: Function }).constructor;
        e.message += ` (reached as ${where}${holder && holder !== Object ? `, on an instance of ${holder.name}` : ''})`;
        return;
      }
      if (v !== null && (typeof v === 'object' || typeof v === 'function') && !seen.has(v)) {
        seen.add(v);
        queue.push([v, where]);
      }
    }
    // Containers (Nest's own, a service's cache) hold their values in Maps and Sets.
    if (o instanceof Map || o instanceof Set) {
      let i = 0;
      // A subclass may not be a real Map inside (its methods then throw): its own keys served.
      try {
        (o instanceof Map ? Map : Set).prototype.has.call(o, undefined);
      } catch {
        continue;
      }
      for (const [k, v] of o instanceof Map ? o.entries() : [...o].map((x) => [i, x] as const)) {
        const where = `${at}.get(${typeof k === 'string' ? JSON.stringify(k) : typeof k === 'function' ? (k as Function).name : i})`;
        i++;
        if (v !== null && (typeof v === 'object' || typeof v === 'function') && !seen.has(v)) {
          seen.add(v);
          queue.push([v, where]);
        }
      }
    }
  }
  if (weak && capturedWeak(e as { message: string }, self, weak as 'WeakMap' | 'WeakSet')) return;
  debug('agent', `locating a refused value: not found after ${n} objects`);
}

/**
 * Privacy through a module-level WeakMap (`balances.set(this, ...)`, and what tsc emits for
 * `#private` below ES2022): the WeakMap is a captured variable of the methods, not a field. Names
 * the variable, the method and its line, and why it stays here: a worker's copy could hold only the
 * entries of keys it carries (a key fetched later would find none), and the entries it sets could
 * not be written back.
 */
function capturedWeak(e: { message: string }, self: object, weak: 'WeakMap' | 'WeakSet'): boolean {
  const fns = new Set<Function>();
  for (let p = Object.getPrototypeOf(self); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      const d = Object.getOwnPropertyDescriptor(p, k);
      if (k === 'constructor' || typeof d?.value !== 'function') continue;
      const inner = (d.value as unknown as Record<symbol, { fn?: Function } | undefined>)[Symbol.for('beehive.wrapped')]?.fn ?? d.value;
      for (const f of methodReach(self, inner).fns) fns.add(f);
    }
  }
  const isWeak = (v: unknown) => (weak === 'WeakMap' ? types.isWeakMap(v) : types.isWeakSet(v));
  for (const fn of fns) {
    let info;
    try {
      info = functionInfo(fn);
    } catch {
      continue;
    }
    const vars = new Map(info.stable);
    if (info.volatile.size) for (const sc of readScopes(fn, info.volatile)) for (const [k, v] of sc.values) vars.set(k, v);
    for (const [name, v] of vars) {
      if (!isWeak(v)) continue;
      const where = info.file ? `, ${info.file}:${(info.location?.line ?? 0) + 1}` : '';
      e.message += ` (the captured variable '${name}' of ${fn.name || 'a method'}${where}: a copy on a worker would hold only the entries of the keys it carries, and entries it sets could not be written back; it runs on the server)`;
      return true;
    }
  }
  return false;
}

/**
 * What a shadow comparison looks at for a Nest method: its value (or its error: class, message,
 * HTTP status and body), then the response calls made through `@Res({ passthrough: true })`. An
 * Observable or StreamableFile compares by kind only: reading the local one would run its producer
 * a second time.
 */
export function nestShadowView(out: { value?: unknown; thrown?: unknown; threw: boolean }, calls: unknown[]): unknown[][] {
  const head: unknown[] = out.threw ? ['thrown', errorView(out.thrown)] : ['value', valueView(out.value)];
  const rest = calls
    .filter((c) => (c as unknown[])[0] !== 'statusCode=')
    .map((c) => ((c as unknown[])[0] === 'header' ? ['set', ...(c as unknown[]).slice(1)] : (c as unknown[])));
  return [head, ...rest];
}

function valueView(v: unknown): unknown {
  if (v && typeof v === 'object') {
    const r = v as Record<symbol | string, unknown>;
    if (r[kObservable] === true || (typeof r.subscribe === 'function' && typeof r.pipe === 'function')) return { kind: 'Observable' };
    if (r[kFile] === true || (typeof r.getStream === 'function' && typeof r.getHeaders === 'function')) return { kind: 'StreamableFile' };
  }
  return v;
}

function errorView(e: unknown): unknown {
  if (!e || typeof e !== 'object') return e;
  const x = e as { constructor?: { name?: string }; message?: unknown; getStatus?: () => unknown; getResponse?: () => unknown };
  return {
    class: x.constructor?.name,
    message: x.message,
    status: typeof x.getStatus === 'function' ? x.getStatus() : undefined,
    response: typeof x.getResponse === 'function' ? x.getResponse() : undefined,
  };
}

/** Controllers already walked and found without a live request (singletons: walked once). */
const clean = new WeakSet<object>();

/**
 * Where the controller instance holds the live request or response through its own fields and its
 * providers' (a few levels of class instances; data containers are not walked), as a path.
 */
function liveRequestPath(self: unknown): string | undefined {
  if (!self || typeof self !== 'object' || clean.has(self)) return undefined;
  const seen = new Set<object>();
  const walk = (o: object, at: string, depth: number): string | undefined => {
    if (seen.has(o)) return undefined;
    seen.add(o);
    if (o instanceof IncomingMessage || o instanceof ServerResponse) return at;
    if (depth === 0 || Array.isArray(o) || o instanceof Map || o instanceof Set || ArrayBuffer.isView(o)) return undefined;
    const proto = Object.getPrototypeOf(o);
    if (proto === null || proto === Object.prototype) return undefined;
    for (const k of Object.keys(o)) {
      // Data properties only: a getter is the app's code, not to be run here.
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (!d || !('value' in d) || !d.value || typeof d.value !== 'object') continue;
      const found = walk(d.value as object, `${at}.${k}`, depth - 1);
      if (found) return found;
    }
    return undefined;
  };
  const found = walk(self, 'this', 3);
  if (!found) clean.add(self);
  return found;
}
