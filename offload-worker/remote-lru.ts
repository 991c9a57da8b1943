import type { LruKeyCall, Op } from '../protocol';
import { registerRemote } from './remote-ref';

/**
 * A large LRUCache left on the server (protocol/codec/lru.ts): its key calls — get, peek, has, set,
 * delete — are answered here from the server one key at a time (MsgType.LruRead) and from what this
 * invocation set or deleted itself, and each is logged with what it returned. The log is the
 * cache's part of the dirty set: the server replays it at the commit point and refuses the commit
 * if a call returns something else there (another request's write, a TTL run out, an eviction by
 * this invocation's own sets). Anything else (size, iteration, options) brings the cache whole, as
 * any remote object; the calls logged so far are made again on the copy (see `load`).
 */
export interface LruSource {
  keyId(k: object): number | undefined;
  /** What `method(key)` returns on the server's cache now; `gone` when a get would delete the (stale) entry. */
  read(id: number, method: 'get' | 'peek' | 'has' | 'delete', key: { key: unknown } | { keyId: number }): { value: unknown; gone?: boolean };
  /** The cache, fetched whole (its copy), for everything the key calls do not cover. */
  whole(id: number): object;
  track(id: number, delta: { ops(): Op[]; sent(): void }): void;
  refuse(reason: string): Error;
  /** The invocation fails (runs on the server) even if the handler catches the error; the handler stays offloadable. */
  fail(reason: string): Error;
}

const CALLS = new Set<string | symbol>(['get', 'peek', 'has', 'set', 'delete']);
const DELETED = Symbol('deleted');

export function makeRemoteLru(id: number, src: LruSource): object {
  /** This invocation's own sets (value) and deletes, by key. */
  const own = new Map<unknown, unknown>();
  let ops: Op[] = [];
  let sent = false;
  let real: object | undefined;
  src.track(id, {
    ops: () => (real ? [] : ops),
    sent: () => {
      if (ops.length) sent = true;
      ops = [];
    },
  });

  const keyOf = (k: unknown): { key: unknown } | { keyId: number } => {
    if ((k !== null && typeof k === 'object') || typeof k === 'function') {
      const keyId = src.keyId(k);
      if (keyId === undefined) throw src.refuse('an LRUCache on the server read with an object key it did not send');
      return { keyId };
    }
    if (typeof k === 'string' || typeof k === 'boolean' || k === null || (typeof k === 'number' && Number.isFinite(k) && !Object.is(k, -0))) return { key: k };
    throw src.refuse(`an LRUCache on the server read with a ${typeof k} key`);
  };
  const log = (method: LruKeyCall, args: unknown[], returned: unknown) => {
    ops.push(['lcall', method, args, returned]);
    return returned;
  };
  const answer = (method: 'get' | 'peek' | 'has' | 'delete', k: unknown): unknown => {
    if (own.has(k)) {
      const v = own.get(k);
      if (method === 'get' || method === 'peek') return v === DELETED ? undefined : v;
      return v !== DELETED;
    }
    const r = src.read(id, method, keyOf(k));
    // A get of a stale entry deletes it: the handler's next call on that key must see it gone.
    if (r.gone) own.set(k, DELETED);
    return r.value;
  };
  const calls: Record<LruKeyCall, (...a: unknown[]) => unknown> = {
    get: (k, o) => (o === undefined ? log('get', [k], answer('get', k)) : viaWhole('get', [k, o])),
    peek: (k, o) => (o === undefined ? log('peek', [k], answer('peek', k)) : viaWhole('peek', [k, o])),
    has: (k, o) => (o === undefined ? log('has', [k], answer('has', k)) : viaWhole('has', [k, o])),
    set: (k, v, o) => {
      keyOf(k);
      // set(k, undefined) is a delete in lru-cache.
      own.set(k, v === undefined ? DELETED : v);
      log('set', o === undefined ? [k, v] : [k, v, o], undefined);
      return proxy;
    },
    delete: (k) => {
      const had = answer('delete', k) as boolean;
      own.set(k, DELETED);
      return log('delete', [k], had);
    },
  };
  /**
   * The cache whole, for what the key calls do not answer. Calls already made are made again on the
   * copy, which must answer them as the server did one key at a time (else what the handler read
   * has changed since: the invocation fails and runs on the server); from then on the copy is the
   * cache, and its changes are diffed as any copy's, the log dropped. Calls already sent with a
   * lock's release would be applied twice: refused.
   */
  const load = (): object => {
    if (real) return real;
    if (sent) throw src.refuse('an LRUCache on the server used beyond get/peek/has/set/delete after a lock sent its calls');
    const copy = src.whole(id) as Record<string, (...a: unknown[]) => unknown>;
    for (const op of ops) {
      const [, method, args, returned] = op as ['lcall', LruKeyCall, unknown[], unknown];
      const r = Reflect.apply(copy[method], copy, args);
      if (method !== 'set' && !Object.is(r, returned)) throw src.fail(`the LRUCache on the server answered ${method}() differently once fetched whole`);
    }
    real = copy;
    return real;
  };
  const viaWhole = (method: string, args: unknown[]): unknown => {
    const r = load() as Record<string, (...a: unknown[]) => unknown>;
    return Reflect.apply(r[method], r, args);
  };
  const proxy: object = new Proxy(
    {},
    {
      get(_t, k) {
        if (!real && CALLS.has(k)) return calls[k as LruKeyCall];
        const r = load();
        const v = Reflect.get(r, k, r);
        // Its methods need its private fields, which do not pass through a Proxy.
        return typeof v === 'function' ? v.bind(r) : v;
      },
      set: (_t, k, v) => Reflect.set(load(), k, v),
      has: (_t, k) => Reflect.has(load(), k),
      deleteProperty: (_t, k) => Reflect.deleteProperty(load(), k),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_t, k) => {
        const d = Reflect.getOwnPropertyDescriptor(load(), k);
        if (d) d.configurable = true;
        return d;
      },
      defineProperty: (_t, k, d) => Reflect.defineProperty(load(), k, d),
      getPrototypeOf: () => Reflect.getPrototypeOf(load()),
      setPrototypeOf: (_t, p) => Reflect.setPrototypeOf(load(), p),
      isExtensible: () => true,
      preventExtensions: () => false,
    },
  );
  registerRemote(proxy, id, 'lru');
  return proxy;
}
