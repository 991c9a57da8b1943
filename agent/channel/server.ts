import http from 'node:http';
import https from 'node:https';
import Module from 'node:module';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { types } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import { ChannelErrors, decode, decodeFrame, encode, encodeFrame, headerInt, headerString, isLruCache, lruAnswer, lruGetRemoves, MsgType, type Frame } from '../../protocol';
import { markStructural, serverEncodeHooks } from '../capture/closure';
import type { ExportTable } from '../../gc';
import { checkChanges } from '../offload';
import { serverDecodeHooks } from './decode-hooks';
import { debug } from '../debug';
import type { InvocationRecord, Invocations } from './invocations';

/** Bound on the ids a handler's refinement remembers. */
const MAX_REFINED = 20_000;
/** Most elements one FetchRange serves (the worker asks for far fewer: see offload-worker/remote-array.ts). */
export const MAX_RANGE = 65_536;
/** Rough bytes one range reply carries at most (at least one element). */
const RANGE_BYTES = 256 * 1024;

export interface ChannelServerOptions {
  host: string;
  port: number;
  /** The live invocations; their lock manager serves LockAcquire and LockRelease. */
  invocations: Invocations;
  exports: ExportTable;
  budget: number;
  appRoot: string;
  /** Largest frame from a connection that has authenticated. */
  maxFrameBytes: number;
  /** How long a connection may stay open without authenticating. Default 10 s. */
  authTimeoutMs?: number;
  /** Connections open at once without having authenticated; more are closed at once. Default 256. */
  maxUnauthenticated?: number;
  tls?: { key: string | Buffer; cert: string | Buffer };
  onRefused?(code: string): void;
}

/** Headers of the WebSocket upgrade naming a live invocation and its capability. */
export const AUTH_HEADERS = { inv: 'x-beehive-inv', cap: 'x-beehive-cap' } as const;
/** Bound on the upgrade request's headers: a peer that has not authenticated sends no more. */
const MAX_UPGRADE_HEADER_BYTES = 8 * 1024;

/**
 * The server's end of the channel (DESIGN.md §3 steps 6-7): serves object fetches, module
 * fallbacks, closures too large for the invoke payload, and locks — only to a worker that presents
 * the invocation's capability, and only objects leased to that invocation.
 *
 * Limits before trust: a connection authenticates at the WebSocket upgrade with the capability of
 * a live invocation (a worker connects while it runs one); before that it can send only an HTTP
 * request head of at most 8 KiB, it is closed if it has not upgraded within `authTimeoutMs`, and at
 * most `maxUnauthenticated` such connections are open at once.
 * Frames up to `maxFrameBytes` are accepted only on an authenticated connection, and every frame
 * still carries its own invocation's capability.
 */
export class ChannelServer {
  private readonly server: http.Server | https.Server;
  private readonly wss: WebSocketServer;
  private readonly authTimeoutMs: number;
  private readonly maxUnauthenticated: number;
  private readonly unauthenticated = new Map<Duplex, NodeJS.Timeout>();
  refused = 0;

  constructor(private readonly o: ChannelServerOptions) {
    this.authTimeoutMs = o.authTimeoutMs ?? 10_000;
    if (!(this.authTimeoutMs > 0)) throw ChannelErrors.OPTIONS('authTimeoutMs must be a positive number');
    this.maxUnauthenticated = o.maxUnauthenticated ?? 256;
    if (!Number.isInteger(this.maxUnauthenticated) || this.maxUnauthenticated < 1) throw ChannelErrors.OPTIONS('maxUnauthenticated must be a positive integer');
    const common = { maxHeaderSize: MAX_UPGRADE_HEADER_BYTES, headersTimeout: this.authTimeoutMs, requestTimeout: this.authTimeoutMs };
    this.server = o.tls
      ? https.createServer({ ...common, key: o.tls.key, cert: o.tls.cert, handshakeTimeout: this.authTimeoutMs })
      : http.createServer(common);
    this.server.on(o.tls ? 'secureConnection' : 'connection', (socket: Duplex) => this.unauthenticatedSocket(socket));
    this.server.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' }).end('BeeHive channel: WebSocket only\n');
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: o.maxFrameBytes, perMessageDeflate: false });
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  /**
   * Closes a connection that has not authenticated in time, and one too many: peers that have not
   * proved a capability cannot hold more than `maxUnauthenticated` sockets of the process.
   */
  private unauthenticatedSocket(socket: Duplex): void {
    (socket as unknown as { unref?: () => void }).unref?.();
    if (this.unauthenticated.size >= this.maxUnauthenticated) {
      this.refused++;
      this.o.onRefused?.(ChannelErrors.AUTH.code);
      socket.destroy();
      return;
    }
    const timer = setTimeout(() => {
      this.unauthenticated.delete(socket);
      this.refused++;
      this.o.onRefused?.(ChannelErrors.AUTH.code);
      socket.destroy();
    }, this.authTimeoutMs);
    timer.unref();
    this.unauthenticated.set(socket, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      this.unauthenticated.delete(socket);
    });
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    let ok = false;
    let err: Error = ChannelErrors.AUTH('the upgrade names no live invocation and capability');
    try {
      ok = this.o.invocations.authorize(req.headers[AUTH_HEADERS.inv], req.headers[AUTH_HEADERS.cap]) !== undefined;
    } catch (e) {
      err = e as Error;
    }
    if (!ok) {
      this.refused++;
      const code = (err as { code?: string }).code ?? ChannelErrors.AUTH.code;
      this.o.onRefused?.(code);
      const body = JSON.stringify({ code, message: err.message });
      // The answer, and nothing more is read: the peer's bytes stay in the kernel's buffers (TCP
      // back-pressure stops it) until the unauthenticated timer closes the connection. Destroying
      // it at once with data unread would reset it and could lose the answer.
      socket.pause();
      socket.end(`HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    const timer = this.unauthenticated.get(socket);
    if (timer) clearTimeout(timer);
    this.unauthenticated.delete(socket);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connection(ws));
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port, this.o.host, () => {
        this.server.unref();
        const a = this.server.address() as { address: string; port: number };
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    for (const [socket, timer] of this.unauthenticated) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.wss.close();
    return new Promise((r) => this.server.close(() => r()));
  }

  private connection(ws: WebSocket): void {
    (ws as unknown as { _socket?: { unref?: () => void } })._socket?.unref?.();
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return this.refuse(ws, 0, ChannelErrors.MALFORMED('text frames are not part of the protocol'), true);
      const buf = data as Buffer;
      let frame: Frame;
      try {
        frame = decodeFrame(buf);
      } catch (err) {
        // A peer that speaks garbage is closed: nothing it sends next can be trusted.
        return this.refuse(ws, buf.length >= 7 ? buf.readUInt32BE(3) : 0, err, true);
      }
      void this.handle(ws, frame).catch((err) => this.refuse(ws, frame.id, err, false));
    });
  }

  private refuse(ws: WebSocket, id: number, err: unknown, close: boolean): void {
    this.refused++;
    const code = (err as { code?: string })?.code ?? ChannelErrors.REMOTE.code;
    this.o.onRefused?.(code);
    if (ws.readyState === ws.OPEN) ws.send(encodeFrame(MsgType.Error, id, { code, message: String((err as Error)?.message ?? err) }));
    if (close) ws.close(1002, code.slice(0, 100));
  }

  private reply(ws: WebSocket, id: number, body: Uint8Array, header: Record<string, unknown> = {}): void {
    if (ws.readyState === ws.OPEN) ws.send(encodeFrame(MsgType.Ok, id, header, body));
  }

  private async handle(ws: WebSocket, f: Frame): Promise<void> {
    if (f.type === MsgType.Ok || f.type === MsgType.Error) throw ChannelErrors.UNKNOWN_TYPE('replies are not requests');
    const inv = this.o.invocations.authorize(f.header.inv, f.header.cap);
    if (!inv) throw ChannelErrors.AUTH(`invocation ${String(f.header.inv).slice(0, 64)}`);
    switch (f.type) {
      case MsgType.Fetch: {
        const id = headerInt(f, 'id');
        const obj = leased(inv, id);
        inv.fetched++;
        return this.reply(ws, f.id, await this.fetchWhole(inv, id, obj));
      }
      case MsgType.FetchRange: {
        const id = headerInt(f, 'id');
        const start = headerInt(f, 'start');
        const count = Math.min(headerInt(f, 'count'), MAX_RANGE);
        const obj = leased(inv, id);
        inv.fetched++;
        // Ranges only of a large plain array whose range holds only data properties, and not hot
        // (a hot one is locked and fetched whole: its stand-in then reports the keys read); a small
        // one is fetched whole and refined into the next closure, as by Fetch.
        const end = largeContainer(obj) && !this.o.invocations.contention.isHot(obj) ? servableRange(obj, start, count) : -1;
        if (end < 0) return this.reply(ws, f.id, await this.fetchWhole(inv, id, obj), { whole: true });
        const arr = obj as unknown[];
        const items: unknown[] = new Array(Math.max(0, end - start));
        for (let i = start; i < end; i++) if (i in arr) items[i - start] = arr[i];
        // The carrier array is not server state: not pictured, not leased back.
        markStructural(items);
        // Not refined: the next closure would carry the whole array for the few elements touched.
        // Unplanned first: servableRange sized the range to half this budget already.
        const bytes = this.encodeFor(inv, items, false, items, RANGE_BYTES * 2, true);
        if (!inv.shadow) inv.reads.noteRange(arr, start, end, RANGE_NAMES);
        debug('channel', `${inv.handlerId}: range fetch of array ${id} [${start}, ${end}) of ${arr.length}`);
        return this.reply(ws, f.id, bytes, { length: arr.length, start, names: f.header.names === true ? RANGE_NAMES : undefined });
      }
      case MsgType.WeakGet: {
        const id = headerInt(f, 'id');
        const keyId = headerInt(f, 'key');
        const weak = leased(inv, id);
        const isMap = types.isWeakMap(weak);
        if (!isMap && !types.isWeakSet(weak)) throw ChannelErrors.MALFORMED(`object ${id} is not a WeakMap or WeakSet`);
        const key = leased(inv, keyId);
        inv.fetched++;
        const w = weak as WeakMap<object, unknown>;
        const has = w.has(key);
        const value = isMap ? w.get(key) : undefined;
        // A read like any other: the entry must still be what the worker was told at the commit point.
        if (!inv.shadow) inv.reads.noteCheck(() => (w.has(key) !== has || (isMap && !Object.is(w.get(key), value)) ? `the ${isMap ? 'WeakMap' : 'WeakSet'} entry of an object` : undefined));
        return this.reply(ws, f.id, this.encodeFor(inv, value), { has });
      }
      case MsgType.LruRead: {
        const id = headerInt(f, 'id');
        const cache = leased(inv, id);
        if (!isLruCache(cache)) throw ChannelErrors.MALFORMED(`object ${id} is not an LRUCache`);
        const method = headerString(f, 'method', 16);
        if (method !== 'get' && method !== 'peek' && method !== 'has' && method !== 'delete') throw ChannelErrors.MALFORMED(`LruRead of '${method}'`);
        let key: unknown;
        if (f.header.keyId !== undefined) {
          key = leased(inv, headerInt(f, 'keyId'));
        } else {
          key = f.header.key;
          if (!('key' in f.header) || (key !== null && typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean')) throw ChannelErrors.MALFORMED('LruRead key must be a string, number, boolean, null or a leased object');
        }
        inv.fetched++;
        // A hot cache is locked at the first read, as a hot object is at its fetch: the calls then
        // replay at the commit as they ran, without others' commits in between.
        if (this.o.invocations.contention.isHot(cache)) await this.lockHot(inv, cache);
        return this.reply(ws, f.id, this.encodeFor(inv, lruAnswer(cache, method, key)), method === 'get' && lruGetRemoves(cache, key) ? { gone: true } : {});
      }
      case MsgType.Await: {
        const id = headerInt(f, 'id');
        const p = inv.lease.get(id);
        if (!p || !types.isPromise(p)) throw ChannelErrors.FORBIDDEN(`promise ${id}`);
        // Answered when it settles, or refused once the invocation has ended.
        const outcome = await settlementOf(p as Promise<unknown>, (end) => (inv.onEnd ??= []).push(end));
        if (outcome === 'ended' || !this.o.invocations.isLive(inv.id)) throw ChannelErrors.ENDED(`invocation ${inv.id}`);
        const record = { ok: outcome.ok, v: outcome.v };
        markStructural(record);
        return this.reply(ws, f.id, this.encodeFor(inv, record));
      }
      case MsgType.Closure: {
        if (!inv.closure) throw ChannelErrors.NOT_FOUND('no closure parked for this invocation');
        return this.reply(ws, f.id, inv.closure);
      }
      case MsgType.Pack: {
        const n = headerInt(f, 'pack');
        const p = inv.packs[n];
        if (!p) throw ChannelErrors.NOT_FOUND(`pack ${n}`);
        const record = await p;
        return this.reply(ws, f.id, Buffer.from(JSON.stringify(record)));
      }
      case MsgType.Module:
        return this.reply(ws, f.id, this.encodeFor(inv, this.moduleExports(headerString(f, 'from'), headerString(f, 'spec'))));
      case MsgType.LockAcquire: {
        const key = headerString(f, 'key', 256);
        // A key this invocation still holds (two-phase: held until its commit) is granted at once,
        // without a refresh: the worker's copies are newer than the server's.
        if (inv.locks.has(key)) {
          this.keepChanges(inv, f.body);
          return this.reply(ws, f.id, new Uint8Array(0), { refresh: false });
        }
        await this.o.invocations.locks.acquire(key, inv.id);
        if (!this.o.invocations.isLive(inv.id) || inv.doomed) {
          // Ended (or doomed) while it waited: the key goes to the next in line.
          this.o.invocations.locks.release(key, inv.id);
          throw inv.doomed ?? ChannelErrors.ENDED(`invocation ${inv.id}`);
        }
        inv.locks.add(key);
        // Changes the worker made before this acquire: kept in order, like a release's.
        const sent = this.keepChanges(inv, f.body);
        // Once this invocation has changes pending, the server's copies lack its own writes: the
        // worker keeps its copies (a stale one is caught at the commit and re-run locally).
        if (sent || inv.pendingLocks.length > 0) return this.reply(ws, f.id, new Uint8Array(0), { refresh: false });
        // Fresh copies of what the worker holds (shipped inline or fetched) that changed here since:
        // the release-consistency acquire. The rest are, by their pictures, what the worker has
        // already (the request's snapshot, a 23 KB draft, was sent again at every acquire). They
        // replace what the read set says it saw.
        const all = inv.reads.stale();
        const hooks = serverEncodeHooks({ lease: inv.lease, budget: Infinity, onShipped: (o) => inv.reads.note(o), asReference: (o) => this.unheldHot(inv, o) });
        return this.reply(ws, f.id, encode(all, { ...hooks, budget: undefined }).bytes, { refresh: true });
      }
      case MsgType.LockRelease: {
        const key = headerString(f, 'key', 256);
        if (!inv.locks.has(key)) throw ChannelErrors.LOCK(`'${key}' is not held by this invocation`);
        if (inv.shadow) {
          // A shadow's changes are discarded: it need not keep the key.
          inv.locks.delete(key);
          this.o.invocations.locks.release(key, inv.id);
          return this.reply(ws, f.id, new Uint8Array(0));
        }
        this.keepChanges(inv, f.body);
        return this.reply(ws, f.id, new Uint8Array(0));
      }
      default:
        throw ChannelErrors.UNKNOWN_TYPE(`type ${f.type}`);
    }
  }

  /**
   * A dirty set sent with a lock message, checked (shape, leased objects only) and kept until the
   * commit point: applied once there, or never. A shadow's are dropped. False when there was none.
   * A set that fails its check dooms the invocation: its handler saw the failure, so it must not
   * commit, and its keys are released at once.
   */
  private keepChanges(inv: InvocationRecord, body: Uint8Array): boolean {
    if (body.length === 0) return false;
    if (inv.shadow) return true;
    try {
      const changes = (decode(body, serverDecodeHooks(inv.lease)) as { changes?: unknown })?.changes ?? [];
      checkChanges(changes, (id) => inv.lease.get(id));
      if ((changes as unknown[]).length > 0) inv.pendingLocks.push(changes);
    } catch (err) {
      this.o.invocations.doom(inv, err as Error);
      throw err;
    }
    return true;
  }

  /**
   * A worker's first touch of a hot object: the object is locked for this invocation until it ends
   * (shared when its handler has never been seen writing it), so that nobody else's commit changes
   * it meanwhile. Waiting counts as contention and keeps the object hot; a wait that would deadlock
   * makes this invocation the victim (a conflict: it runs again, nothing of it applied).
   */
  private async lockHot(inv: InvocationRecord, obj: object): Promise<void> {
    if (inv.shadow) return;
    const { locks, contention } = this.o.invocations;
    const mode = contention.writes(inv.handlerId, obj) ? 'x' : 's';
    if (locks.wouldWait(obj, inv.id, mode)) contention.warm(obj);
    try {
      await locks.acquire(obj, inv.id, mode);
    } catch (err) {
      if (ChannelErrors.DEADLOCK.is(err) && this.o.invocations.isLive(inv.id)) throw this.o.invocations.deadlockVictim(inv, err as Error);
      throw err;
    }
    if (!this.o.invocations.isLive(inv.id) || inv.doomed) {
      locks.release(obj, inv.id);
      throw inv.doomed ?? ChannelErrors.ENDED(`invocation ${inv.id}`);
    }
    inv.objectLocks++;
  }

  /**
   * A hot object travels as a reference, also once this invocation holds it: the worker then reaches
   * it only through its stand-in, which is what reports the keys read (the fetch of the object itself
   * is its root, shipped inline).
   */
  private unheldHot(_inv: InvocationRecord, o: object): boolean {
    return this.o.invocations.contention.isHot(o);
  }

  /** An object fetched whole: locked first when hot, else refined into the handler's next closure. */
  private async fetchWhole(inv: InvocationRecord, id: number, obj: object): Promise<Uint8Array> {
    const hot = this.o.invocations.contention.isHot(obj);
    if (hot) await this.lockHot(inv, obj);
    else if (!largeContainer(obj)) inv.refined.add(id);
    debug('channel', `${inv.handlerId}: fallback fetch of object ${id} (${Array.isArray(obj) ? `array of ${obj.length}` : (obj as object).constructor?.name ?? 'object'})`);
    const bytes = this.encodeFor(inv, obj, true, obj);
    // Locked and fetched whole: the commit checks only the keys the worker reports it read.
    if (hot && !inv.shadow) inv.reads.noteKeyed(obj);
    return bytes;
  }

  private encodeFor(inv: InvocationRecord, value: unknown, refine = false, root?: unknown, budget = this.o.budget, unplannedFirst = false): Uint8Array {
    const hooks = serverEncodeHooks({
      lease: inv.lease,
      budget,
      refined: inv.refined,
      peekId: (o) => this.o.exports.peekId(o),
      root,
      onShipped: (o) => inv.reads.note(o),
      asReference: (o) => this.unheldHot(inv, o),
      allowMemberWrites: inv.allowMemberWrites,
      unplannedFirst,
    });
    if (refine) {
      // Refinement (paper §4.1): everything this fallback shipped goes inline in the handler's next closure.
      const idOf = hooks.idOf!;
      hooks.idOf = (o) => {
        const id = idOf(o);
        if (id !== undefined && inv.refined.size < MAX_REFINED && !largeContainer(o)) inv.refined.add(id);
        return id;
      };
    }
    return encode(value, hooks).bytes;
  }

  /** Code fallback: an app module's live exports, only for files of the app. */
  private moduleExports(from: string, spec: string): unknown {
    const root = path.resolve(this.o.appRoot) + path.sep;
    if (!path.isAbsolute(from) || !path.resolve(from).startsWith(root)) throw ChannelErrors.MODULE(`'${from}' is not a file of the app`);
    let file: string;
    try {
      const M = Module as unknown as { _resolveFilename(s: string, p: object): string; _nodeModulePaths(d: string): string[] };
      file = M._resolveFilename(spec, { id: from, filename: from, paths: M._nodeModulePaths(path.dirname(from)) });
    } catch (err) {
      throw ChannelErrors.MODULE(`cannot resolve '${spec}' from ${from}`, { cause: err });
    }
    if (!file.startsWith(root)) throw ChannelErrors.MODULE(`'${spec}' resolves outside the app`);
    return require(file);
  }
}

/** An object leased to this invocation, by the id a worker names; any other is FORBIDDEN. */
function leased(inv: InvocationRecord, id: number): object {
  const o = inv.lease.get(id);
  if (!o) throw ChannelErrors.FORBIDDEN(`object ${id}`);
  return o;
}

/**
 * A promise's settlement for one waiting invocation, or 'ended' when that invocation ends first.
 * One reaction per promise, whatever the number of invocations waiting on it: a module-level
 * promise that never settles, awaited by every request, holds no invocation past its end.
 */
type Settlement = { ok: boolean; v: unknown };
const waiting = new WeakMap<Promise<unknown>, { waiters: Set<(s: Settlement) => void>; done?: Settlement }>();
function settlementOf(p: Promise<unknown>, onEnd: (end: () => void) => void): Promise<Settlement | 'ended'> {
  let w = waiting.get(p);
  if (!w) {
    const state: { waiters: Set<(s: Settlement) => void>; done?: Settlement } = { waiters: new Set() };
    w = state;
    waiting.set(p, state);
    const settle = (s: Settlement) => {
      state.done = s;
      for (const f of state.waiters) f(s);
      state.waiters.clear();
    };
    p.then((v) => settle({ ok: true, v }), (v: unknown) => settle({ ok: false, v }));
  }
  const state = w;
  if (state.done) return Promise.resolve(state.done);
  return new Promise((resolve) => {
    state.waiters.add(resolve);
    onEnd(() => {
      state.waiters.delete(resolve);
      resolve('ended');
    });
  });
}

/**
 * The named keys a range reply vouches for: what array code reads of an array besides its indices
 * and `length` (Array.prototype's and Object.prototype's names, `toJSON` for JSON.stringify). A
 * range-served array has none of them as its own, so on the worker they are the inherited ones; a
 * key outside this list makes the worker fetch the array whole.
 */
const RANGE_NAMES: readonly string[] = [...new Set([...Object.getOwnPropertyNames(Array.prototype), ...Object.getOwnPropertyNames(Object.prototype), 'toJSON'])].filter((k) => k !== 'length');

/**
 * Where the range of a plain array from `start` ends (about RANGE_BYTES of elements, at most
 * `count`), or -1 when it cannot be read in ranges: a subclass, own symbols, one of RANGE_NAMES
 * as an own key, not extensible, or an accessor in the range. Anything else is fetched whole, where
 * the codec carries what it is. (Own keys are not listed: for a large array that alone costs tens
 * of milliseconds.)
 */
function servableRange(o: object, start: number, count: number): number {
  if (!Array.isArray(o) || Object.getPrototypeOf(o) !== Array.prototype || !Object.isExtensible(o)) return -1;
  if (Object.getOwnPropertySymbols(o).length > 0) return -1;
  for (const k of RANGE_NAMES) if (Object.prototype.hasOwnProperty.call(o, k)) return -1;
  // Descriptors only: a getter in the range is never run, it sends the array whole.
  const end = Math.min(start + count, o.length);
  let used = 0;
  for (let i = start; i < end; i++) {
    const d = Object.getOwnPropertyDescriptor(o, i);
    if (d && !('value' in d)) return -1;
    used += roughBytes(d?.value, 3);
    if (used > RANGE_BYTES && i > start) return i;
  }
  return end;
}

/**
 * A container too large to go inline in every later closure because one fetch needed it whole (a
 * push to a 200k-row array): refinement leaves it a remote reference, read in ranges next time.
 */
function largeContainer(o: object): boolean {
  if (Array.isArray(o)) return o.length > LARGE_ELEMENTS;
  if (o instanceof Map || o instanceof Set) return o.size > LARGE_ELEMENTS;
  return false;
}
const LARGE_ELEMENTS = 1024;

/** A rough size, reading only data properties (a getter is never run), a few levels deep. */
function roughBytes(v: unknown, depth: number): number {
  if (typeof v === 'string') return 8 + v.length;
  if (v === null || typeof v !== 'object') return 8;
  if (depth === 0) return 64;
  if (ArrayBuffer.isView(v)) return 16 + v.byteLength;
  if (v instanceof Map || v instanceof Set) return 16 + v.size * 32;
  if (Array.isArray(v)) {
    // Sampled: listing a large nested array's keys would cost more than shipping it.
    const n = Math.min(v.length, 16);
    let bytes = 16;
    for (let i = 0; i < n; i++) bytes += roughBytes(Object.getOwnPropertyDescriptor(v, i)?.value, depth - 1);
    return n < v.length ? (bytes * v.length) / n : bytes;
  }
  const keys = Object.keys(v);
  const n = Math.min(keys.length, 64);
  let bytes = 16;
  for (let i = 0; i < n; i++) {
    const d = Object.getOwnPropertyDescriptor(v, keys[i]);
    bytes += keys[i].length + 4 + (d && 'value' in d ? roughBytes(d.value, depth - 1) : 8);
  }
  return n < keys.length ? (bytes * keys.length) / n : bytes;
}
