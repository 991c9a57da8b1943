/**
 * lru-cache's LRUCache (majors 10 and 11), carried by its public state instead of refused for its
 * private fields (docs/values.md). Everything an LRUCache holds is in three places its own API
 * exposes: its options (public fields and getters), its entries in recency order with their TTL
 * clocks and sizes (`dump()`, which `load()` restores, start times on the portable Date.now()
 * clock), and the derived counters. The worker builds its copy from options + dump; a changed copy
 * comes back as one operation `['lru', after, before]` (protocol/contract.ts) that the server
 * applies with `load(after)` only if its cache still dumps as `before`.
 *
 * Caches with callbacks the server would run at load (dispose, disposeAfter, onInsert) or that run
 * work of their own (fetchMethod, memoMethod, ttlAutopurge timers), or a custom clock, stay refused.
 */

/**
 * A cache with more entries than this stays on the server (a reference): its calls are answered
 * there one key at a time and replayed at the commit (offload-worker/remote-lru.ts), instead of its
 * whole dump travelling in every closure.
 */
export const LRU_INLINE_ENTRIES = 64;

/** The calls a cache left on the server serves one key at a time; anything else brings it whole. */
export const LRU_KEY_CALLS = ['get', 'peek', 'has', 'set', 'delete'] as const;
export type LruKeyCall = (typeof LRU_KEY_CALLS)[number];

/**
 * What `method(key)` returns on `c` now, without changing it: `get` answers what get would
 * (peek with the cache's allowStale), `has` whether a fresh entry is there, `delete` whether any is.
 */
export function lruAnswer(c: LruLike, method: 'get' | 'peek' | 'has' | 'delete', key: unknown): unknown {
  const cache = c as unknown as { peek(k: unknown, o?: { allowStale?: boolean }): unknown; allowStale?: boolean };
  switch (method) {
    case 'get':
      return cache.peek(key, { allowStale: !!cache.allowStale });
    case 'peek':
      return cache.peek(key);
    case 'has':
      return cache.peek(key, { allowStale: false }) !== undefined;
    case 'delete':
      return cache.peek(key, { allowStale: true }) !== undefined;
  }
}

/** Whether `get(key)` on `c` now would delete the entry: it is stale, and the cache deletes stale entries it gets. */
export function lruGetRemoves(c: LruLike, key: unknown): boolean {
  const cache = c as unknown as { peek(k: unknown, o?: { allowStale?: boolean }): unknown; noDeleteOnStaleGet?: boolean };
  return !cache.noDeleteOnStaleGet && cache.peek(key, { allowStale: true }) !== undefined && cache.peek(key, { allowStale: false }) === undefined;
}

/** One dumped entry, as LRUCache#dump() writes it. */
export interface LruEntry {
  value: unknown;
  ttl?: number;
  start?: number;
  size?: number;
}
export type LruDump = Array<[unknown, LruEntry]>;

/** The record a cache travels as (codec Custom record 'lru'). */
export interface LruRecord {
  /** The LRUCache class, as a package member: the worker's own copy of the package. */
  cls: unknown;
  options: Record<string, unknown>;
  /** Its own data properties (public option fields) as they are now. */
  props: Record<string, unknown>;
  entries: LruDump;
}

/** Classes recognised as lru-cache's LRUCache on this side (the server's capture, the worker's copies). */
const classes = new WeakSet<object>();
export function registerLruClass(cls: Function): void {
  classes.add(cls);
}

/** Whether `o` is an LRUCache of a recognised class. */
export function isLruCache(o: object): o is LruLike {
  const proto = Object.getPrototypeOf(o);
  if (proto === null || proto === Object.prototype) return false;
  const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
  return typeof ctor === 'function' && classes.has(ctor);
}

export interface LruLike {
  dump(): LruDump;
  load(entries: LruDump): void;
}

/**
 * Two dumps hold the same entries in the same order — keys and values by identity, TTLs and sizes —
 * leaving the start times aside (see lruPicture for those).
 */
export function sameLruEntries(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as [unknown, LruEntry];
    const y = b[i] as [unknown, LruEntry];
    if (!Array.isArray(x) || !Array.isArray(y) || !Object.is(x[0], y[0])) return false;
    const e = x[1];
    const f = y[1];
    if (!e || !f || !Object.is(e.value, f.value) || e.ttl !== f.ttl || e.size !== f.size) return false;
  }
  return true;
}

/**
 * A cache's state on this process's monotonic clock: its dump with each start time moved from the
 * wall clock dump() writes (Date.now()) to performance.now(), by the two clocks' offset. Two
 * pictures of an unchanged cache then agree to within 3 ms (each picture is off by up to a
 * millisecond from dump()'s floor and up to one from its whole-millisecond Date.now() reads, its own
 * offset read included: -2 to +1) plus however far the offset moved while each dump ran — and it
 * does move: on a virtual machine Date.now() - performance.now() was seen to jump by 4 ms between
 * two readings, and a loaded machine can stretch a dump across such a jump. The offset is read before
 * and after the dump; the difference (`slack`) widens that picture's tolerance. A TTL clock another
 * request reset moves by the entry's age.
 */
export interface LruPicture {
  entries: LruDump;
  starts: Array<number | undefined>;
  /** How far the clocks' offset moved while the dump ran, ms. */
  slack: number;
}
export function lruPicture(c: LruLike): LruPicture {
  const offset = Date.now() - performance.now();
  const entries = c.dump();
  const slack = Math.abs(Date.now() - performance.now() - offset);
  return { entries, starts: entries.map(([, e]) => (typeof e.start === 'number' ? e.start - offset : undefined)), slack };
}
export function sameLruPicture(a: LruPicture, b: LruPicture): boolean {
  if (!sameLruEntries(a.entries, b.entries)) return false;
  const tolerance = 3 + a.slack + b.slack;
  for (let i = 0; i < a.starts.length; i++) {
    const x = a.starts[i];
    const y = b.starts[i];
    if (x !== y && !(x !== undefined && y !== undefined && Math.abs(x - y) <= tolerance)) return false;
  }
  return true;
}

/** A well-formed dump from the other side: pairs of key and entry object, nothing else. */
export function isLruDump(d: unknown): d is LruDump {
  if (!Array.isArray(d)) return false;
  for (const p of d) {
    if (!Array.isArray(p) || p.length !== 2) return false;
    const e = p[1] as LruEntry;
    if (e === null || typeof e !== 'object' || !('value' in e)) return false;
    for (const k of ['ttl', 'start', 'size'] as const) if (e[k] !== undefined && (typeof e[k] !== 'number' || !Number.isFinite(e[k]))) return false;
  }
  return true;
}

/** The entries of a dump as fresh objects (load() writes its clock into the entries it is given). */
export function copyLruDump(d: LruDump): LruDump {
  return d.map(([k, e]) => [k, { ...e }]);
}
