import { types } from 'node:util';
import { ChannelErrors, copyLruDump, isLruCache, isLruDump, LRU_KEY_CALLS, sameLruEntries, type Change, type LruLike, type Op } from '../../protocol';
import { conflictOn } from '../contention';

/**
 * Applies a worker's dirty set to the real objects, all or nothing (DESIGN.md §3 step 7).
 *
 * Validation first: every operation names the value the worker saw before its write; if the server's
 * current value differs, another request changed it meanwhile and the invocation is refused
 * (optimistic concurrency), so that `stats.hits++` never loses an update. Then the writes, with an
 * undo log in case a setter throws half-way.
 */
export function applyChanges(changes: unknown, resolve: (id: number) => object | undefined): number {
  return applyChangeSets([changes], resolve);
}

/**
 * Applies several dirty sets in order, all or nothing: each set is validated against the state the
 * sets before it left (a lock's changes, then the changes made after it), and a refusal or a
 * throwing setter anywhere undoes every set already applied.
 */
export function applyChangeSets(sets: unknown[], resolve: (id: number) => object | undefined): number {
  const undo: Array<() => void> = [];
  /** An LRUCache's entries before the first replayed call on it: one dump per cache, not per call. */
  const cachesBefore = new Map<object, ReturnType<LruLike['dump']>>();
  let n = 0;
  try {
    for (const changes of sets) {
      const plan = planChanges(changes, resolve);
      for (const { obj, ops } of plan) for (const op of ops) validate(obj, op);
      try {
        for (const { obj, ops } of plan) for (const op of ops) undo.push(apply(obj, op, cachesBefore));
      } catch (err) {
        throw ChannelErrors.CONFLICT(`applying the dirty set failed: ${(err as Error).message}`, { cause: err });
      }
      n += plan.reduce((k, p) => k + p.ops.length, 0);
    }
  } catch (err) {
    for (let i = undo.length - 1; i >= 0; i--) {
      try {
        undo[i]();
      } catch {
        /* best effort: the original error is what matters */
      }
    }
    throw err;
  }
  return n;
}

/**
 * Checks a dirty set's shape and that it names only objects `resolve` knows, without applying it
 * (a lock release is checked when it arrives, applied at the commit point).
 */
export function checkChanges(changes: unknown, resolve: (id: number) => object | undefined): void {
  for (const { ops } of planChanges(changes, resolve)) {
    for (const op of ops) if (!Array.isArray(op) || typeof op[0] !== 'string') throw ChannelErrors.MALFORMED('operation is not a list');
  }
}

function planChanges(changes: unknown, resolve: (id: number) => object | undefined): Array<{ obj: object; ops: Op[] }> {
  if (!Array.isArray(changes)) throw ChannelErrors.MALFORMED('changes must be a list');
  const plan: Array<{ obj: object; ops: Op[] }> = [];
  for (const c of changes as Change[]) {
    if (!c || typeof c.id !== 'number' || !Array.isArray(c.ops)) throw ChannelErrors.MALFORMED('change without id or ops');
    const obj = resolve(c.id);
    if (!obj) throw ChannelErrors.FORBIDDEN(`object ${c.id}`);
    plan.push({ obj, ops: c.ops });
  }
  return plan;
}

const same = (a: unknown, b: unknown) => Object.is(a, b);

function conflict(obj: object, what: string): never {
  throw conflictOn(obj, 'write', what);
}

function validate(obj: object, op: Op): void {
  if (!Array.isArray(op) || typeof op[0] !== 'string') throw ChannelErrors.MALFORMED('operation is not a list');
  const o = obj as Record<string | symbol, unknown>;
  switch (op[0]) {
    case 'set': {
      const [, k, , old, had] = op;
      checkKey(k);
      const has = Object.prototype.hasOwnProperty.call(o, k);
      if (has !== had || (has && !same(o[k], old))) conflict(obj, `property '${String(k)}' changed`);
      return;
    }
    case 'del': {
      const [, k, old] = op;
      checkKey(k);
      if (!Object.prototype.hasOwnProperty.call(o, k) || !same(o[k], old)) conflict(obj, `property '${String(k)}' changed`);
      return;
    }
    case 'len':
      if (!Array.isArray(obj) || typeof op[1] !== 'number' || !(op[1] >= 0) || obj.length !== op[2]) conflict(obj, 'array length changed');
      return;
    case 'mset':
      if (!types.isMap(obj)) throw ChannelErrors.MALFORMED('mset on a non-Map');
      if (obj.has(op[1]) !== op[4] || !same(obj.get(op[1]), op[3])) conflict(obj, 'map entry changed');
      return;
    case 'mdel':
      if (!types.isMap(obj)) throw ChannelErrors.MALFORMED('mdel on a non-Map');
      if (!obj.has(op[1]) || !same(obj.get(op[1]), op[2])) conflict(obj, 'map entry changed');
      return;
    case 'sadd':
      if (!types.isSet(obj)) throw ChannelErrors.MALFORMED('sadd on a non-Set');
      if (obj.has(op[1])) conflict(obj, 'set already has the value');
      return;
    case 'sdel':
      if (!types.isSet(obj)) throw ChannelErrors.MALFORMED('sdel on a non-Set');
      if (!obj.has(op[1])) conflict(obj, 'set lost the value');
      return;
    case 'time':
      if (!types.isDate(obj) || typeof op[1] !== 'number') throw ChannelErrors.MALFORMED('time on a non-Date');
      if (!same(obj.getTime(), op[2])) conflict(obj, 'date changed');
      return;
    case 'bytes': {
      if (!ArrayBuffer.isView(obj) && !types.isArrayBuffer(obj)) throw ChannelErrors.MALFORMED('bytes on a non-buffer');
      const cur = ArrayBuffer.isView(obj) ? Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength) : Buffer.from(obj as ArrayBuffer);
      if (!(op[1] instanceof Uint8Array) || !(op[2] instanceof Uint8Array) || op[1].byteLength !== cur.byteLength) throw ChannelErrors.MALFORMED('bytes of another length');
      if (!cur.equals(Buffer.from(op[2]))) conflict(obj, 'buffer changed');
      return;
    }
    case 'mre':
      if (!types.isMap(obj)) throw ChannelErrors.MALFORMED('mre on a non-Map');
      if (!obj.has(op[1]) || !same(obj.get(op[1]), op[3])) conflict(obj, 'map entry changed');
      return;
    case 'sre':
      if (!types.isSet(obj)) throw ChannelErrors.MALFORMED('sre on a non-Set');
      if (!obj.has(op[1])) conflict(obj, 'set lost the value');
      return;
    case 'href':
      if (!(obj instanceof URL) || typeof op[1] !== 'string' || !URL.canParse(op[1])) throw ChannelErrors.MALFORMED('href on a non-URL or a bad URL');
      if (obj.href !== op[2]) conflict(obj, 'URL changed');
      return;
    case 'query':
      if (!(obj instanceof URLSearchParams) || typeof op[1] !== 'string') throw ChannelErrors.MALFORMED('query on a non-URLSearchParams');
      if (String(obj) !== op[2]) conflict(obj, 'search params changed');
      return;
    case 'wset':
    case 'wdel':
      if (!types.isWeakMap(obj) && !types.isWeakSet(obj)) throw ChannelErrors.MALFORMED(`${op[0]} on an object that is not a WeakMap or WeakSet`);
      if (op[1] === null || (typeof op[1] !== 'object' && typeof op[1] !== 'function')) throw ChannelErrors.MALFORMED(`${op[0]} with a key that is not an object`);
      if (op[0] === 'wset' && types.isWeakSet(obj) && op[2] !== undefined) throw ChannelErrors.MALFORMED('a WeakSet value with a value');
      // Writes are blind: what the worker read of the entry first is checked with its reads.
      return;
    case 'lcall':
      if (!isLruCache(obj)) throw ChannelErrors.MALFORMED('lcall on an object that is not an LRUCache');
      if (!(LRU_KEY_CALLS as readonly string[]).includes(op[1]) || !Array.isArray(op[2]) || op[2].length < 1 || op[2].length > 3) throw ChannelErrors.MALFORMED('lcall of another method, or with other arguments');
      // Checked as it is replayed: the call must return now what it returned on the worker.
      return;
    case 'lru':
      if (!isLruCache(obj)) throw ChannelErrors.MALFORMED('lru on an object that is not an LRUCache');
      if (!isLruDump(op[1]) || !isLruDump(op[2])) throw ChannelErrors.MALFORMED('lru entries are not [key, entry] pairs');
      // Entries, order, values, TTLs and sizes; the start times are the read set's to check (on
      // this process's monotonic clock: the worker's are on its own wall clock).
      if (!sameLruEntries(obj.dump(), op[2])) conflict(obj, 'cache entries changed');
      return;
    default:
      throw ChannelErrors.MALFORMED(`unknown operation '${String(op[0])}'`);
  }
}

function checkKey(k: unknown): void {
  if (typeof k !== 'string' && typeof k !== 'symbol') throw ChannelErrors.MALFORMED('property key must be a string or symbol');
  if (k === '__proto__') throw ChannelErrors.MALFORMED("'__proto__' cannot be written");
}

function apply(obj: object, op: Op, cachesBefore: Map<object, ReturnType<LruLike['dump']>>): () => void {
  const o = obj as Record<string | symbol, unknown>;
  switch (op[0]) {
    case 'set': {
      const [, k, v, old, had] = op;
      o[k] = v;
      return had ? () => (o[k] = old) : () => delete o[k];
    }
    case 'del': {
      const [, k, old] = op;
      delete o[k];
      return () => (o[k] = old);
    }
    case 'len': {
      const a = obj as unknown[];
      const removed = a.slice(op[1]);
      a.length = op[1];
      return () => {
        a.length = op[2];
        removed.forEach((v, i) => (a[op[1] + i] = v));
      };
    }
    case 'mset': {
      const m = obj as Map<unknown, unknown>;
      m.set(op[1], op[2]);
      const [, k, , old, had] = op;
      return had ? () => m.set(k, old) : () => m.delete(k);
    }
    case 'mdel': {
      const m = obj as Map<unknown, unknown>;
      m.delete(op[1]);
      return () => m.set(op[1], op[2]);
    }
    case 'sadd': {
      const s = obj as Set<unknown>;
      s.add(op[1]);
      return () => s.delete(op[1]);
    }
    case 'sdel': {
      const s = obj as Set<unknown>;
      s.delete(op[1]);
      return () => s.add(op[1]);
    }
    case 'time': {
      const d = obj as Date;
      d.setTime(op[1]);
      return () => d.setTime(op[2]);
    }
    case 'mre': {
      // Moves the entry to the end (insertion order is state); undone by restoring the whole order.
      const m = obj as Map<unknown, unknown>;
      const before = [...m];
      m.delete(op[1]);
      m.set(op[1], op[2]);
      return () => {
        m.clear();
        for (const [k, v] of before) m.set(k, v);
      };
    }
    case 'sre': {
      const st = obj as Set<unknown>;
      const before = [...st];
      st.delete(op[1]);
      st.add(op[1]);
      return () => {
        st.clear();
        for (const v of before) st.add(v);
      };
    }
    case 'href': {
      const u = obj as URL;
      u.href = op[1];
      return () => (u.href = op[2]);
    }
    case 'query': {
      const p = obj as URLSearchParams;
      setQuery(p, op[1]);
      return () => setQuery(p, op[2]);
    }
    case 'wset':
    case 'wdel': {
      const w = obj as WeakMap<object, unknown> & WeakSet<object>;
      const isMap = types.isWeakMap(obj);
      const k = op[1];
      const had = w.has(k);
      const was = isMap ? w.get(k) : undefined;
      if (op[0] === 'wdel') w.delete(k);
      else if (isMap) w.set(k, op[2]);
      else w.add(k);
      return () => {
        if (!had) w.delete(k);
        else if (isMap) w.set(k, was);
        else w.add(k);
      };
    }
    case 'lcall': {
      // A call the worker made on a cache that stayed here, replayed in order: the commit holds only
      // if each returns what the worker was told (another request's change, a TTL run out or an
      // eviction by the worker's own sets makes it return something else: a conflict, undone).
      // The cache's first call in this commit keeps its entries before: undoing that one undoes
      // them all (undo runs in reverse), so the later calls need none of their own.
      const c = obj as LruLike;
      const first = !cachesBefore.has(c);
      if (first) cachesBefore.set(c, c.dump());
      const was = cachesBefore.get(c)!;
      const [, method, args, returned] = op;
      const fn = (Object.getPrototypeOf(c) as Record<string, (...a: unknown[]) => unknown>)[method];
      const r = Reflect.apply(fn, c, args);
      if (method !== 'set' && !Object.is(r, returned)) {
        c.load(was);
        conflict(obj, `cache ${method}() returned another value at the commit`);
      }
      return first ? () => c.load(was) : () => {};
    }
    case 'lru': {
      // The worker's entries, in its recency order with its clocks; options have no callbacks
      // (agent/capture/lru.ts), so load() runs nothing of the app's.
      const c = obj as LruLike;
      const was = c.dump();
      c.load(copyLruDump(op[1] as never));
      return () => c.load(was);
    }
    case 'bytes': {
      const target = ArrayBuffer.isView(obj) ? new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength) : new Uint8Array(obj as ArrayBuffer);
      target.set(op[1]);
      return () => target.set(op[2]);
    }
  }
}

/** Replaces a URLSearchParams' entries in place: a URL's own searchParams updates its URL too. */
function setQuery(p: URLSearchParams, query: string): void {
  for (const k of new Set(p.keys())) p.delete(k);
  for (const [k, v] of new URLSearchParams(query)) p.append(k, v);
}
