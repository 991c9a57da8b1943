import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { copyLruDump, decode, encode, isLruDump, MsgType, nodeSymbolByName, nodeSymbolName, refKindOf, registerLruClass, type InvocationEvent, type LruLike, type LruRecord, type RefKind } from '../protocol';
import type { ChannelClient } from './channel/client';
import { ClosureSpace, noteLruLoaded, type Change } from './closure-space';
import { WorkerErrors } from './errors';
import { fillFunction, rebuildFunction, releaseFunction } from './rebuild';
import { makeRemoteRef, remoteInfo, type RangeReply } from './remote-ref';
import { makeRemotePromise, makeRemoteWeak, type WeakSource } from './remote-weak';
import { makeRemoteLru, type LruSource } from './remote-lru';

/** Read keys reported one by one for an object; beyond, the object is reported read whole. */
const MAX_READ_KEYS = 1024;
import { unpack } from './unpackers';
import { makeAppView } from './http-shims';
import { workerOriginOf } from './module-origin';
import { packageRecordOf } from './package-origin';
import { applyPackageSetup, buildPackageInstance, type InstanceView } from './package-setup';

/**
 * Symbols the server identified (neither registered nor well-known): one local symbol per server
 * identity for the life of the worker, so that keys made in one invocation match the next.
 */
const symbols = new Map<number, symbol>();
const symbolIds = new Map<symbol, number>();
function workerSymbol(id: number, desc: string): symbol {
  let s = symbols.get(id);
  if (!s) {
    s = Symbol(desc);
    symbols.set(id, s);
    symbolIds.set(s, id);
  }
  return s;
}

/** Package specs resolved to files, for the life of the worker. */
const resolvedPackages = new Map<string, string>();

/** Values that came as custom records (modules, require functions) re-encode as the same records. */
const customOrigin = new WeakMap<object, { custom: string; data: unknown }>();

/**
 * One invocation on the worker: its closure space, its channel credentials, and the decode/encode
 * hooks that tie copies to their server identities.
 */
export class Invocation {
  readonly space = new ClosureSpace();
  /** Connections unpacked for this invocation, closed when it ends (control returns to the server). */
  readonly closers: Array<() => Promise<unknown>> = [];
  /** Objects fetched and app modules loaded from the server in this invocation (the result's `timings.fetches`). */
  fallbacks = 0;
  /**
   * The worker's request and response, created before the closure decodes: the server's real
   * `req`/`res` reached through a middleware's closure (`res.ok = d => res.json(d)`) decode to them.
   */
  readonly reqTarget: Record<string, unknown> = {};
  readonly resTarget: Record<string, unknown> = {};
  /** Endpoints a handler may connect to: the channel and the database proxy of unpacked clients. */
  readonly endpoints: Array<{ host: string; port: number }> = [];
  /** The server's environment as handlers saw it: a write to it would be lost, so it refuses. */
  readonly envViews: Array<{ env: Record<string, unknown>; was: Record<string, unknown> }> = [];
  /** Package instances built from their construction logs: the handler must leave them as built. */
  readonly packageInstances: InstanceView[] = [];

  /** The first environment variable a handler set or deleted, if any. */
  envWrite(): string | undefined {
    for (const { env, was } of this.envViews) {
      for (const k of Object.keys(env)) if (env[k] !== was[k]) return k;
      for (const k of Object.keys(was)) if (!(k in env)) return k;
    }
    return undefined;
  }
  private readonly fnIds = new WeakMap<Function, number>();

  constructor(readonly event: InvocationEvent, readonly channel: ChannelClient) {}

  private auth(): Record<string, unknown> {
    return { inv: this.event.inv, cap: this.event.cap };
  }

  /**
   * The first channel call of this invocation that failed (lost connection, timeout, refusal). The
   * handler may have caught the error and carried on with a guess; such an outcome must not
   * commit, so the runtime reports the invocation failed and the request runs again locally.
   */
  failure?: Error;

  /**
   * A refusal by the public API (beehive.state() on a worker): the invocation fails even if the
   * handler catches the error, so that the request runs on the server.
   */
  refuse(reason: string): Error {
    const err = WorkerErrors.REFUSED(reason);
    this.failure ??= err;
    return err;
  }

  private callSync(type: MsgType, header: Record<string, unknown>, body?: Uint8Array) {
    try {
      return this.channel.callSync(type, header, body, this.event.timeoutMs);
    } catch (err) {
      this.failure ??= err as Error;
      throw err;
    }
  }

  private async call(type: MsgType, header: Record<string, unknown>, body?: Uint8Array) {
    try {
      return await this.channel.call(type, header, body, this.event.timeoutMs);
    } catch (err) {
      this.failure ??= err as Error;
      throw err;
    }
  }

  private decoding = 0;
  private refreshing = false;

  decode(bytes: Uint8Array): unknown {
    // A fetch can happen inside a decode (a hook touching a remote reference): snapshots wait until
    // the outermost decode has filled every object.
    this.decoding++;
    try {
      return this.decodeInner(bytes);
    } finally {
      if (--this.decoding === 0) this.space.settle();
    }
  }

  private decodeInner(bytes: Uint8Array): unknown {
    const v = decode(bytes, {
      ref: (id, kind) => this.remote(id, kind),
      onObject: (o, id) => {
        if (customOrigin.has(o)) this.space.registerOpaque(o, id);
        else this.space.register(o, id);
        if (typeof o === 'function') this.fnIds.set(o, id);
      },
      createFunction: (header, pre, id) => {
        const fn = rebuildFunction(header, pre, id);
        this.rebuilt.add(fn);
        return fn;
      },
      fillFunction,
      custom: (tag, data) => this.custom(tag, data),
      symbol: (id, desc) => workerSymbol(id, desc),
      namedSymbol: nodeSymbolByName,
      reuse: this.refreshing ? (id) => this.space.byId.get(id) : undefined,
      existing: this.refreshing ? undefined : (id) => this.space.byId.get(id),
    });
    return v;
  }

  encode(value: unknown): Buffer {
    return encode(value, {
      replace: (o) => {
        const id = this.space.ids.get(o);
        if (id !== undefined) return { ref: id, kind: refKindOf(o) };
        const r = remoteInfo(o);
        if (r) return { ref: r.id, kind: r.kind };
        const c = customOrigin.get(o) ?? packageRecordOf(o);
        if (c) return c;
        if (typeof o === 'function') {
          // A package's own class or function (an http-errors class): the server's copy of it.
          const origin = workerOriginOf(o);
          if (origin) return origin;
          throw WorkerErrors.NEW_FUNCTION(o.name || '(anonymous)');
        }
        return undefined;
      },
      symbolId: (s) => symbolIds.get(s),
      symbolName: nodeSymbolName,
    }).bytes;
  }

  /** One stand-in per server object: two paths to it in a closure are the same object here too. */
  private readonly remotes = new Map<number, object>();

  private remote(id: number, kind: RefKind): object {
    const known = this.remotes.get(id) ?? this.space.byId.get(id);
    if (known) return known;
    if (kind === 'weakmap' || kind === 'weakset' || kind === 'promise' || kind === 'lru') {
      const standIn =
        kind === 'promise' ? makeRemotePromise(id, (i) => this.settlement(i)) : kind === 'lru' ? makeRemoteLru(id, this.lruSource()) : makeRemoteWeak(id, kind, this.weakSource());
      this.remotes.set(id, standIn);
      return standIn;
    }
    const proxy = makeRemoteRef(id, kind, { fetch: (i) => this.fetchSync(i), fetchRange: (i, start, count, names) => this.fetchRangeSync(i, start, count, names) });
    this.remotes.set(id, proxy);
    return proxy;
  }

  /** What the stand-ins of state left on the server (remote-weak.ts, remote-lru.ts) need of the invocation. */
  private standInSource() {
    return {
      keyId: (k: object) => this.space.ids.get(k) ?? remoteInfo(k)?.id,
      track: (id: number, delta: { ops(): Change['ops']; sent(): void }) => this.space.track(id, delta),
      refuse: (reason: string) => this.refuse(reason),
    };
  }

  private weakSource(): WeakSource {
    return {
      ...this.standInSource(),
      entry: (id, key) => {
        const reply = this.ask(MsgType.WeakGet, { id, key }, `entry of weak collection ${id}`);
        return { has: reply.header.has === true, value: this.decode(reply.body) };
      },
      checkKey: (k) => {
        if (k === this.reqTarget || k === this.resTarget) throw this.refuse("a WeakMap or WeakSet written with the request or response as its key: the server's own would not get the entry");
      },
    };
  }

  private lruSource(): LruSource {
    return {
      ...this.standInSource(),
      read: (id, method, key) => {
        const reply = this.ask(MsgType.LruRead, { id, method, ...key }, `${method}() of cache ${id}`);
        return { value: this.decode(reply.body), gone: reply.header.gone === true };
      },
      whole: (id) => this.fetchSync(id),
      fail: (reason) => {
        const err = WorkerErrors.STALE(reason);
        this.failure ??= err;
        return err;
      },
    };
  }

  /** One synchronous read of server state (a fallback): counted, and a channel failure named by `what`. */
  private ask(type: MsgType, header: Record<string, unknown>, what: string) {
    this.fallbacks++;
    try {
      return this.callSync(type, { ...this.auth(), ...header });
    } catch (err) {
      throw WorkerErrors.REMOTE_FETCH(`${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** A server promise's settlement, when it comes. */
  private async settlement(id: number): Promise<{ ok: boolean; v: unknown }> {
    const reply = await this.call(MsgType.Await, { ...this.auth(), id });
    const r = this.decode(reply.body) as { ok?: unknown; v?: unknown } | null;
    if (!r || typeof r.ok !== 'boolean') throw WorkerErrors.REMOTE_FETCH(`malformed settlement of promise ${id}`);
    return { ok: r.ok, v: r.v };
  }

  /** The synchronous fallback: the main thread blocks while the helper thread fetches. */
  fetchSync(id: number): object {
    const reply = this.ask(MsgType.Fetch, { id }, `object ${id}`);
    const v = this.decode(reply.body);
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) throw WorkerErrors.REMOTE_FETCH(`object ${id} is not an object`);
    return v;
  }

  /** Elements of a remote array (see remote-array.ts), or the whole array when the server sends it. */
  fetchRangeSync(id: number, start: number, count: number, wantNames: boolean): RangeReply {
    const reply = this.ask(MsgType.FetchRange, { id, start, count, names: wantNames }, `elements ${start}.. of array ${id}`);
    const v = this.decode(reply.body);
    const h = reply.header;
    if (h.whole === true) {
      if (!Array.isArray(v)) throw WorkerErrors.REMOTE_FETCH(`array ${id} came back as something else`);
      return { whole: v };
    }
    if (!Array.isArray(v) || typeof h.length !== 'number' || typeof h.start !== 'number') throw WorkerErrors.REMOTE_FETCH(`malformed range reply for array ${id}`);
    const names = Array.isArray(h.names) && h.names.every((k) => typeof k === 'string') ? (h.names as string[]) : undefined;
    return { length: h.length, start: h.start, items: v, names };
  }

  async fetchClosure(): Promise<Uint8Array> {
    const reply = await this.call(MsgType.Closure, this.auth());
    return reply.body;
  }

  private custom(tag: string, data: unknown): unknown {
    let v: unknown;
    switch (tag) {
      case 'module': {
        const d = data as { spec: string; path?: string[]; from?: string; setup?: unknown };
        // The server's configuration of its packages first: a member may be one it added (dayjs.utc).
        if (d.setup) applyPackageSetup(d.setup, (spec) => this.requirePackage(spec));
        v = this.requirePackage(d.spec, d.from);
        for (const k of d.path ?? []) v = (v as Record<string, unknown>)[k];
        break;
      }
      case 'global': {
        v = globalThis;
        for (const k of data as string[]) v = (v as Record<string, unknown>)[k];
        break;
      }
      case 'untravelled': {
        // A value the server kept because it cannot travel: any use here fails the invocation.
        const d = data as { name: string; reason: string; callable: boolean };
        const fail = (): never => {
          throw WorkerErrors.UNSUPPORTED(`captured variable '${String(d.name)}' stayed on the server: ${String(d.reason)}`);
        };
        v = new Proxy(d.callable ? function () {} : {}, {
          get: fail, set: fail, has: fail, deleteProperty: fail, ownKeys: fail, getOwnPropertyDescriptor: fail, defineProperty: fail,
          getPrototypeOf: fail, setPrototypeOf: fail, apply: fail, construct: fail, isExtensible: fail, preventExtensions: fail,
        });
        break;
      }
      case 'global-accessor': {
        const [name, acc] = data as [string, 'get' | 'set'];
        v = Object.getOwnPropertyDescriptor(globalThis, String(name))?.[acc === 'set' ? 'set' : 'get'];
        if (typeof v !== 'function') throw WorkerErrors.UNSUPPORTED(`global accessor ${String(name)}`);
        break;
      }
      case 'require': {
        const d = typeof data === 'string' ? { file: data } : (data as { file: string; setup?: unknown });
        if (d.setup) applyPackageSetup(d.setup, (spec) => this.requirePackage(spec));
        v = this.makeRequire(String(d.file));
        break;
      }
      case 'process': {
        // The server's view of what differs between machines: its environment.
        const view = Object.create(process) as NodeJS.Process;
        const env = (data as { env: NodeJS.ProcessEnv }).env;
        this.envViews.push({ env, was: { ...env } });
        Object.defineProperty(view, 'env', { value: env, enumerable: true, writable: true });
        v = view;
        break;
      }
      case 'promise': {
        // A promise the server holds settled: settled the same way here.
        const d = data as { ok: boolean; v: unknown };
        if (d.ok) v = Promise.resolve(d.v);
        else {
          v = Promise.reject(d.v);
          (v as Promise<unknown>).catch(() => {});
        }
        break;
      }
      case 'member': {
        // A method that needs its class (super, #private): taken from the rebuilt class.
        const d = data as { cls: Function; key: string | symbol; place: 'proto' | 'static'; acc: 'value' | 'get' | 'set' };
        const holder = d.place === 'static' ? d.cls : (d.cls?.prototype as object);
        const desc = holder && Object.getOwnPropertyDescriptor(holder, d.key);
        v = desc?.[d.acc];
        if (typeof v !== 'function') throw WorkerErrors.UNSUPPORTED(`member ${String(d.key)} missing from its rebuilt class`);
        break;
      }
      case 'lru': {
        // lru-cache's LRUCache, rebuilt from its public state on the worker's copy of the package;
        // tracked like any object the server shipped (closure-space.ts diffs its entries).
        const d = data as LruRecord;
        if (typeof d?.cls !== 'function' || !isLruDump(d.entries) || d.options === null || typeof d.options !== 'object') throw WorkerErrors.UNSUPPORTED('malformed LRUCache record');
        registerLruClass(d.cls);
        const c = new (d.cls as new (o: unknown) => LruLike & Record<string, unknown>)(d.options);
        for (const [k, val] of Object.entries(d.props ?? {})) if (!Object.is(c[k], val)) c[k] = val;
        c.load(copyLruDump(d.entries));
        noteLruLoaded(c, d.entries);
        return c;
      }
      case 'package-instance':
        // An instance of a package class the app constructed: built here from its construction log.
        v = buildPackageInstance(data, this.packageInstances);
        break;
      case 'cjs-module':
        // The server's module as its code reads it (`module.parent`, `module.exports`).
        v = { ...(data as Record<string, unknown>) };
        break;
      case 'express-app':
        v = makeAppView(data as { locals: Record<string, unknown>; settings: Record<string, unknown> });
        break;
      case 'pack': {
        let rec = data as { unpacker: string; record?: unknown; pack?: number };
        // The server's own request or response, reached through a closure: this invocation's (by
        // identity only: the handler's changes to them come back as the request's own changes).
        if (rec?.unpacker === 'beehive.request' || rec?.unpacker === 'beehive.response') {
          v = rec.unpacker === 'beehive.request' ? this.reqTarget : this.resTarget;
          break;
        }
        if (rec?.unpacker === 'deferred') {
          // Prepared by the server while the closure travelled: ask for it.
          const reply = this.callSync(MsgType.Pack, { ...this.auth(), pack: rec.pack });
          rec = JSON.parse(Buffer.from(reply.body).toString('utf8'));
        }
        const ep = rec as { host?: unknown; port?: unknown };
        if (typeof ep.host === 'string' && typeof ep.port === 'number') this.endpoints.push({ host: ep.host, port: ep.port });
        v = unpack(
          rec,
          () => this.requirePackage('pg'),
          (close) => this.closers.push(close),
        );
        break;
      }
      default:
        throw WorkerErrors.UNSUPPORTED(`custom record '${tag}'`);
    }
    if (v !== null && (typeof v === 'object' || typeof v === 'function')) customOrigin.set(v, { custom: tag, data });
    return v;
  }

  /**
   * Packages come from the worker's own dependencies: the app's folder locally, the bundle on a FaaS.
   * A package member travels as its path inside node_modules (`lodash/lodash.js`), resolved here by
   * absolute path so that a package's `exports` map cannot hide it.
   */
  requirePackage(spec: string, from?: string): unknown {
    if (spec === 'beehive') return require('../api');
    if (spec.startsWith('node:')) return require(spec);
    // Resolved once per worker: the walk up the folders costs a few file-system calls per record,
    // and a closure carries one record per package value it reaches.
    const key = `${spec}\0${from ?? ''}\0${process.env.BEEHIVE_APP_ROOT ?? ''}`;
    const known = resolvedPackages.get(key);
    if (known) return require(known);
    const file = this.resolvePackage(spec, from);
    resolvedPackages.set(key, file);
    return require(file);
  }

  private resolvePackage(spec: string, from?: string): string {
    const roots = [process.env.BEEHIVE_APP_ROOT, process.cwd(), from && path.dirname(from)].filter(Boolean) as string[];
    for (const root of roots) {
      for (let dir = path.resolve(root); ; dir = path.dirname(dir)) {
        const candidate = path.join(dir, 'node_modules', spec);
        if (fs.existsSync(candidate)) return require.resolve(candidate);
        if (path.dirname(dir) === dir) break;
      }
    }
    try {
      return createRequire(path.join(path.resolve(roots[0] ?? process.cwd()), 'x.js')).resolve(spec);
    } catch (err) {
      throw WorkerErrors.MODULE(`'${spec}': ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * `require` inside an offloaded function: packages load from the worker's dependencies; the app's
   * own files are fetched from the server (code fallback), as their exports — live, stateful objects
   * of the server — not re-evaluated here.
   */
  private makeRequire(from: string): NodeJS.Require {
    const inv = this;
    const req = function require(spec: string): unknown {
      if (typeof spec !== 'string') throw new TypeError('require() takes a string');
      const isFile = spec.startsWith('.') || spec.startsWith('/');
      if (!isFile) return inv.requirePackage(spec, from);
      const reply = inv.callSync(MsgType.Module, { ...inv.auth(), from, spec });
      inv.fallbacks++;
      return inv.decode(reply.body);
    } as NodeJS.Require;
    return req;
  }

  /** Functions this invocation rebuilt or reused: their captured values are dropped at the end. */
  readonly rebuilt = new Set<Function>();

  release(): void {
    for (const fn of this.rebuilt) {
      try {
        releaseFunction(fn);
      } catch {
        /* a function whose captured values cannot be reset keeps them until it is rebuilt */
      }
    }
    this.rebuilt.clear();
  }

  async closeUnpacked(): Promise<void> {
    await Promise.allSettled(this.closers.splice(0).map((c) => c()));
  }

  diff(): Change[] {
    return this.space.diff();
  }

  /** What the handler read of the remote objects it loaded (see remote-ref.ts). */
  remoteReads(): Array<[number, Array<string | symbol> | null]> {
    const out: Array<[number, Array<string | symbol> | null]> = [];
    for (const [id, proxy] of this.remotes) {
      const info = remoteInfo(proxy);
      if (!info || (!info.real && !(info.part && info.part.length >= 0))) continue;
      // Many keys (a scan of a range-read array) go as "all of it": the server then checks all it sent.
      out.push([id, info.reads === true || (info.reads?.size ?? 0) > MAX_READ_KEYS ? null : [...(info.reads ?? [])]]);
    }
    return out;
  }

  /**
   * beehive.lock on the worker: acquire pulls fresh copies, release pushes the dirty set. The server
   * keeps the key and the dirty sets until the invocation's commit point (two-phase locking).
   * Changes made before the acquire travel with it (a refresh must not overwrite them); once the
   * server holds any of this invocation's changes, or for a key it already holds, the acquire comes
   * without a refresh (`refresh: false`): the copies here are then newer than the server's.
   * Each dirty set is snapshotted when it is computed, before the await, so that nothing the
   * handler changes meanwhile is lost or sent twice.
   */
  async lock<T>(key: string, fn: () => T | Promise<T>): Promise<T> {
    const before = this.diff();
    const beforeBody = before.length ? this.encode({ changes: before }) : undefined;
    if (before.length) this.space.resnapshot();
    const acq = await this.call(MsgType.LockAcquire, { ...this.auth(), key }, beforeBody);
    if (acq.header.refresh !== false) {
      // Fresh copies are decoded into the objects the handler already holds.
      this.refreshing = true;
      try {
        this.decode(acq.body);
      } finally {
        this.refreshing = false;
      }
      this.space.resnapshot();
    }
    let result: T;
    let failed: unknown;
    try {
      result = await fn();
    } catch (err) {
      failed = err;
    }
    // As locally: what fn changed before it threw stays changed.
    const body = this.encode({ changes: this.diff() });
    this.space.resnapshot();
    await this.call(MsgType.LockRelease, { ...this.auth(), key }, body);
    if (failed) throw failed;
    return result!;
  }
}
