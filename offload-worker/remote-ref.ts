import { isLruCache, type RefKind } from '../protocol';
import { ArrayPart, arrayIndex, type RangeReply } from './remote-array';

/** The server object behind a remote reference, fetched synchronously on first touch. */
export interface RemoteSource {
  fetch(id: number): object;
  /** Elements of a remote array, or the whole array when the server will not serve ranges of it. */
  fetchRange?(id: number, start: number, count: number, wantNames: boolean): RangeReply;
}
export type { RangeReply } from './remote-array';

/**
 * What the handler read of a remote object through its stand-in: the keys (`PROTO` for its
 * prototype), or `true` for all of it (its key list, a Map's or Set's methods, an accessor, a call).
 * The server validates only those at the commit point (agent/contention/read-set.ts): a hot object
 * changed elsewhere in a key this invocation never looked at is no conflict.
 */
export type ReadKeys = Set<string | symbol> | true;
export const PROTO = '\0proto';

interface RemoteInfo {
  id: number;
  kind: RefKind;
  real?: object;
  reads?: ReadKeys;
  /** An array read in ranges, before (or instead of) its whole. */
  part?: ArrayPart;
}

const remotes = new WeakMap<object, RemoteInfo>();

export function remoteInfo(o: object): RemoteInfo | undefined {
  return remotes.get(o);
}

/** A stand-in of another shape (remote-weak.ts): encoded back as its reference, never fetched. */
export function registerRemote(o: object, id: number, kind: RefKind): void {
  remotes.set(o, { id, kind });
}

function noteRead(info: RemoteInfo, k: string | symbol | true): void {
  if (info.reads === true) return;
  // A symbol key may be one the worker made (a library's private tag): not nameable on the way
  // back, so a symbol read counts as reading all of it.
  if (k === true || typeof k === 'symbol') {
    info.reads = true;
    return;
  }
  const keys = info.reads ?? new Set<string | symbol>();
  keys.add(k);
  info.reads = keys;
}

/**
 * A Proxy of the right shape (array, function, plain object) standing for an object left on the
 * server. Every trap loads the real object first; methods of Map, Set, Date and an LRUCache are
 * bound to it, since internal slots and private fields do not pass through a Proxy.
 */
export function makeRemoteRef(id: number, kind: RefKind, source: RemoteSource): object {
  const info: RemoteInfo = { id, kind };
  const load = (): object => (info.real ??= source.fetch(id));
  /**
   * A read of key `k`: the key (and the prototype, when it is not an own key). An accessor, own or
   * inherited, runs on the real object where its reads go unseen: that reads all of it.
   */
  const read = (r: object, k: string | symbol) => {
    const d = Reflect.getOwnPropertyDescriptor(r, k);
    if (d) {
      noteRead(info, 'value' in d ? k : true);
      return;
    }
    noteRead(info, k);
    noteRead(info, PROTO);
    for (let p = Reflect.getPrototypeOf(r); p; p = Reflect.getPrototypeOf(p)) {
      const pd = Reflect.getOwnPropertyDescriptor(p, k);
      if (!pd) continue;
      if (!('value' in pd)) noteRead(info, true);
      return;
    }
  };
  const target: object = kind === 'array' ? [] : kind === 'function' || kind === 'class' ? function () {} : {};
  // An array is read in ranges until something needs all of it (see remote-array.ts).
  const fetchRange = source.fetchRange;
  const part = kind === 'array' && fetchRange ? new ArrayPart(id, (i, s, c, n) => fetchRange.call(source, i, s, c, n), (whole) => (info.real = whole)) : undefined;
  info.part = part;
  const partial = (): ArrayPart | undefined => (part && !info.real ? part : undefined);
  const proxy: object = new Proxy(target, {
    get(_t, k) {
      const p = partial();
      if (p) {
        const v = partGet(p, info, k, proxy);
        if (v !== MISS) return v;
      }
      const r = load();
      // Their state is in internal slots or private fields, which do not pass through a Proxy.
      const slots = r instanceof Map || r instanceof Set || r instanceof Date || isLruCache(r);
      if (slots) noteRead(info, true);
      else read(r, k);
      const v = Reflect.get(r, k, r);
      if (typeof v === 'function' && slots) return v.bind(r);
      return v;
    },
    set: (_t, k, v) => {
      // A set may run a setter or find a read-only key: what decides it is read.
      const r = load();
      read(r, k);
      return Reflect.set(r, k, v);
    },
    has: (_t, k) => {
      const p = partial();
      if (p) {
        const v = partHas(p, info, k);
        if (v !== MISS) return v;
      }
      const r = load();
      read(r, k);
      return Reflect.has(r, k);
    },
    deleteProperty: (_t, k) => {
      const r = load();
      noteRead(info, k);
      return Reflect.deleteProperty(r, k);
    },
    ownKeys(t) {
      noteRead(info, true);
      const keys = Reflect.ownKeys(load());
      // Proxy invariant: the target's own non-configurable keys must be listed.
      for (const k of Reflect.ownKeys(t)) {
        const d = Object.getOwnPropertyDescriptor(t, k);
        if (d && !d.configurable && !keys.includes(k)) keys.push(k);
      }
      return keys;
    },
    getOwnPropertyDescriptor(t, k) {
      const p = partial();
      if (p) {
        const v = partDescriptor(p, info, k);
        if (v !== MISS) return v;
      }
      noteRead(info, k);
      const d = Reflect.getOwnPropertyDescriptor(load(), k);
      const td = Reflect.getOwnPropertyDescriptor(t, k);
      if (td && !td.configurable) return td.get || td.set ? td : { ...td, value: d && 'value' in d ? d.value : td.value };
      if (d) d.configurable = true;
      return d;
    },
    defineProperty: (_t, k, d) => {
      const r = load();
      noteRead(info, k);
      return Reflect.defineProperty(r, k, d);
    },
    getPrototypeOf: () => {
      // A range-served array is a plain array (the server checked): its prototype is Array's.
      if (partial()?.known()) {
        noteRead(info, PROTO);
        return Array.prototype;
      }
      const r = load();
      noteRead(info, PROTO);
      return Reflect.getPrototypeOf(r);
    },
    setPrototypeOf: (_t, p) => {
      const r = load();
      noteRead(info, true);
      return Reflect.setPrototypeOf(r, p);
    },
    apply: (_t, self, args) => {
      const r = load();
      noteRead(info, true);
      return Reflect.apply(r as Function, self, args);
    },
    construct: (_t, args, nt): object => {
      const r = load();
      noteRead(info, true);
      return Reflect.construct(r as Function, args, nt === proxy ? (r as Function) : nt);
    },
  });
  remotes.set(proxy, info);
  return proxy;
}

/** The part cannot answer this: the whole array is fetched and the trap goes on as for any object. */
const MISS = Symbol('miss');

/** A vouched name (or any symbol: the server found none of its own), inherited from Array.prototype. */
function vouched(p: ArrayPart, k: string | symbol): boolean {
  return typeof k === 'symbol' || !!p.names?.has(k);
}

function partGet(p: ArrayPart, info: RemoteInfo, k: string | symbol, receiver: object): unknown {
  if (k === 'length') {
    if (!p.known()) return MISS;
    noteRead(info, 'length');
    return p.length;
  }
  const i = arrayIndex(k);
  if (i >= 0) {
    if (!p.ensure(i)) return MISS;
    if (i >= p.length) {
      // Absent as long as the length stays what it is: that is what was read.
      noteRead(info, 'length');
      return Reflect.get(Array.prototype, k, receiver);
    }
    noteRead(info, k);
    if (p.has(i)) return p.at(i);
    noteRead(info, PROTO);
    return Reflect.get(Array.prototype, k, receiver);
  }
  if (!p.known()) return MISS;
  if (!vouched(p, k)) return MISS;
  noteRead(info, k);
  noteRead(info, PROTO);
  return Reflect.get(Array.prototype, k, receiver);
}

function partHas(p: ArrayPart, info: RemoteInfo, k: string | symbol): boolean | typeof MISS {
  if (k === 'length') return true;
  const i = arrayIndex(k);
  if (i >= 0) {
    if (!p.ensure(i)) return MISS;
    if (i >= p.length) {
      noteRead(info, 'length');
      return Reflect.has(Array.prototype, k);
    }
    noteRead(info, k);
    if (p.has(i)) return true;
    noteRead(info, PROTO);
    return Reflect.has(Array.prototype, k);
  }
  if (!p.known() || !vouched(p, k)) return MISS;
  noteRead(info, k);
  noteRead(info, PROTO);
  return Reflect.has(Array.prototype, k);
}

function partDescriptor(p: ArrayPart, info: RemoteInfo, k: string | symbol): PropertyDescriptor | undefined | typeof MISS {
  if (k === 'length') {
    if (!p.known()) return MISS;
    noteRead(info, 'length');
    // As the target's own `length` (non-configurable): only its value differs, which the Proxy allows.
    return { value: p.length, writable: true, enumerable: false, configurable: false };
  }
  const i = arrayIndex(k);
  if (i >= 0) {
    if (!p.ensure(i)) return MISS;
    if (i >= p.length) {
      noteRead(info, 'length');
      return undefined;
    }
    noteRead(info, k);
    return p.has(i) ? { value: p.at(i), writable: true, enumerable: true, configurable: true } : undefined;
  }
  if (!p.known() || !vouched(p, k)) return MISS;
  noteRead(info, k);
  return undefined;
}
