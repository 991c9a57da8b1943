import { types } from 'node:util';
import { builtinKind, extraKeys, functionOwnKeys, isLruCache, lruPicture, ownKeys, sameLruPicture, type BuiltinName, type Change, type LruDump, type LruLike, type LruPicture, type Op } from '../protocol';

export type { Change, Op } from '../protocol';

/**
 * The objects an invocation received from the server, each with its server id and a shallow
 * snapshot taken when it arrived. Dirty tracking is a diff against the snapshots at a commit point:
 * unlike tracking Proxies it keeps Map/Set internal slots, private fields and `===` intact, and it
 * costs nothing while the handler runs.
 */

/**
 * Built-in state, and the own data properties beside it (a Map subclass's fields), in own-key order:
 * `keys[i]` held `vals[i]`. Two arrays, not a Map: most objects are unchanged at the commit point,
 * and comparing them in order (see diffProps) needs no lookups.
 */
type Snapshot = Inner & { keys?: Array<string | symbol>; vals?: unknown[]; length?: number };
type Inner =
  | { k: 'props' }
  | { k: 'map'; entries: Map<unknown, unknown> }
  | { k: 'set'; values: Set<unknown> }
  | { k: 'date'; time: number }
  | { k: 'bytes'; bytes: Uint8Array }
  | { k: 'href'; href: string }
  | { k: 're'; lastIndex: number }
  | { k: 'query'; query: string }
  | { k: 'lru'; dump: LruDump; picture: LruPicture }
  | { k: 'none' };

export class ClosureSpace {
  readonly byId = new Map<number, object>();
  readonly ids = new WeakMap<object, number>();
  private readonly snaps = new Map<number, Snapshot>();
  private pending: Array<[number, object]> = [];
  /** Objects left on the server that log their own writes (remote-weak.ts): their ops join the dirty set. */
  private readonly deltas = new Map<number, { ops(): Op[]; sent(): void }>();

  track(id: number, delta: { ops(): Op[]; sent(): void }): void {
    this.deltas.set(id, delta);
  }

  /** Identity only, no dirty tracking: unpacked connections and module values are not state. */
  registerOpaque(obj: object, id: number): void {
    this.byId.set(id, obj);
    this.ids.set(obj, id);
  }

  register(obj: object, id: number): void {
    this.byId.set(id, obj);
    this.ids.set(obj, id);
    this.pending.push([id, obj]);
  }

  /** Snapshots what arrived since the last call (after a decode has filled the objects). */
  settle(): void {
    const pending = this.pending;
    for (let i = 0; i < pending.length; i++) this.snaps.set(pending[i][0], snapshot(pending[i][1], this.ids));
    this.pending = [];
  }

  /** Re-snapshots everything: after a commit the server's state equals ours. */
  resnapshot(): void {
    for (const [id, obj] of this.byId) if (this.snaps.has(id)) this.snaps.set(id, snapshot(obj, this.ids));
    this.deltas.forEach((d) => d.sent());
  }

  diff(): Change[] {
    const out: Change[] = [];
    // forEach, not for-of: no iterator and entry arrays per object while this code is still cold.
    this.byId.forEach((obj, id) => {
      const snap = this.snaps.get(id);
      if (!snap) return;
      const ops = diffOne(obj, snap);
      if (ops.length) out.push({ id, ops });
    });
    this.deltas.forEach((d, id) => {
      const ops = d.ops();
      if (ops.length) out.push({ id, ops: [...ops] });
    });
    return out;
  }
}

function snapshot(o: object, known: WeakMap<object, number>): Snapshot {
  if (types.isProxy(o)) return { k: 'none' };
  const b = builtinKind(o);
  const inner: Snapshot = isLruCache(o) ? lruSnapshot(o as LruLike) : innerSnapshot(o, b?.kind, known);
  const all = trackedKeys(o, b);
  const isArr = Array.isArray(o);
  const keys: Array<string | symbol> = [];
  const vals: unknown[] = [];
  for (let i = 0; i < all.length; i++) {
    const k = all[i];
    if (k === 'length' && isArr) continue;
    const d = Object.getOwnPropertyDescriptor(o, k);
    if (d && 'value' in d) {
      keys.push(k);
      vals.push(d.value);
    }
  }
  inner.keys = keys;
  inner.vals = vals;
  inner.length = isArr ? (o as unknown[]).length : undefined;
  return inner;
}

/**
 * The entries an LRUCache copy was loaded with, exactly as the server dumped them: what the server
 * gets back as the copy's "before", and the start times kept for entries the handler left alone
 * (the copy's own dump() reads them again off this machine's wall clock). Whether the handler
 * changed the copy is told by pictures on the monotonic clock (protocol/codec/lru.ts).
 */
const lruLoaded = new WeakMap<object, LruDump>();
export function noteLruLoaded(cache: object, entries: LruDump): void {
  lruLoaded.set(cache, entries);
}
function lruSnapshot(c: LruLike): Snapshot {
  const loaded = lruLoaded.get(c);
  lruLoaded.delete(c);
  const picture = lruPicture(c);
  return { k: 'lru', dump: loaded ?? picture.entries, picture };
}

/** Entries the handler left as they were (by the pictures) keep the start times the server sent. */
function keepClocks(now: LruPicture, before: LruPicture, sent: LruDump): LruDump {
  const was = new Map(before.entries.map((p, i) => [p[0], i]));
  return now.entries.map(([k, e], j) => {
    const i = was.get(k);
    if (i === undefined || sent[i] === undefined) return [k, e];
    const same = sameLruPicture({ entries: [[k, e]], starts: [now.starts[j]], slack: now.slack }, { entries: [before.entries[i]], starts: [before.starts[i]], slack: before.slack });
    return same ? [k, { ...e, start: sent[i][1].start }] : [k, e];
  });
}

/** The own properties diffed as data: beside a built-in's state, its extra keys. */
function trackedKeys(o: object, b: ReturnType<typeof builtinKind>): Array<string | symbol> {
  if (b) return extraKeys(o, b);
  if (typeof o === 'function') return functionOwnKeys(o);
  const keys = ownKeys(o);
  // An LRUCache makes its getRemainingTTL closure when it first tracks a TTL: the server's cache
  // makes its own when it loads the entries.
  return isLruCache(o) ? keys.filter((k) => k !== 'getRemainingTTL') : keys;
}

function innerSnapshot(o: object, kind: BuiltinName | undefined, known: WeakMap<object, number>): Snapshot {
  switch (kind) {
    case 'Map':
      return { k: 'map', entries: new Map(o as Map<unknown, unknown>) };
    case 'Set':
      return { k: 'set', values: new Set(o as Set<unknown>) };
    case 'Date':
      return { k: 'date', time: (o as Date).getTime() };
    case 'View': {
      const v = o as ArrayBufferView;
      // A view onto a buffer the server shipped: its bytes are the buffer's, diffed there once.
      if (known.has(v.buffer)) return { k: 'none' };
      return { k: 'bytes', bytes: new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice() };
    }
    case 'ArrayBuffer':
      return { k: 'bytes', bytes: new Uint8Array(o as ArrayBuffer).slice() };
    case 'URL':
      return { k: 'href', href: (o as URL).href };
    case 'RegExp':
      return { k: 're', lastIndex: (o as RegExp).lastIndex };
    case 'URLSearchParams':
      return { k: 'query', query: String(o) };
    case undefined:
      return { k: 'props' };
    default:
      return { k: 'none' };
  }
}

function diffOne(o: object, s: Snapshot): Op[] {
  const ops = diffInner(o, s);
  if (s.keys && !sameProps(o, s.keys, s.vals!, s.length)) diffProps(o, new Map(s.keys.map((k, i) => [k, s.vals![i]])), s.length, ops);
  return ops;
}

/**
 * The common case at a commit point, checked without allocating: the same data properties in the
 * same order with the same values (and, for an array, the same length). diffProps finds no op then
 * (nothing set, deleted, moved or resized), so it runs only when this says something differs.
 */
function sameProps(o: object, keys: Array<string | symbol>, vals: unknown[], length: number | undefined): boolean {
  const isArr = Array.isArray(o);
  if (isArr && (o as unknown[]).length !== length) return false;
  const now = trackedKeys(o, builtinKind(o));
  let j = 0;
  for (let i = 0; i < now.length; i++) {
    const k = now[i];
    if (isArr && k === 'length') continue;
    const d = Object.getOwnPropertyDescriptor(o, k);
    if (!d || !('value' in d)) continue;
    if (j >= keys.length || keys[j] !== k || !Object.is(vals[j], d.value)) return false;
    j++;
  }
  return j === keys.length;
}

function diffInner(o: object, s: Snapshot): Op[] {
  const ops: Op[] = [];
  switch (s.k) {
    case 'none':
    case 'props':
      return ops;
    case 're': {
      const now = (o as RegExp).lastIndex;
      if (!Object.is(now, s.lastIndex)) ops.push(['set', 'lastIndex', now, s.lastIndex, true]);
      return ops;
    }
    case 'href': {
      const now = (o as URL).href;
      if (now !== s.href) ops.push(['href', now, s.href]);
      return ops;
    }
    case 'query': {
      const now = String(o);
      if (now !== s.query) ops.push(['query', now, s.query]);
      return ops;
    }
    case 'map': {
      const m = o as Map<unknown, unknown>;
      for (const [k, v] of m) {
        const had = s.entries.has(k);
        const old = s.entries.get(k);
        if (!had || !Object.is(old, v)) ops.push(['mset', k, v, old, had]);
      }
      for (const [k, old] of s.entries) if (!m.has(k)) ops.push(['mdel', k, old]);
      return reorder([...m.keys()], [...s.entries.keys()], ops, (k) => {
        const i = ops.findIndex((op) => op[0] === 'mset' && Object.is(op[1], k));
        if (i >= 0) ops.splice(i, 1);
        return s.entries.has(k) ? ['mre', k, m.get(k), s.entries.get(k)] : ['mset', k, m.get(k), undefined, false];
      });
    }
    case 'set': {
      const set = o as Set<unknown>;
      for (const v of s.values) if (!set.has(v)) ops.push(['sdel', v]);
      return reorder([...set], [...s.values], ops, (v) => {
        const i = ops.findIndex((op) => op[0] === 'sadd' && Object.is(op[1], v));
        if (i >= 0) ops.splice(i, 1);
        return s.values.has(v) ? ['sre', v] : ['sadd', v];
      }, (v) => ops.push(['sadd', v]), (v) => !s.values.has(v));
    }
    case 'lru': {
      const now = lruPicture(o as LruLike);
      if (!sameLruPicture(now, s.picture)) ops.push(['lru', keepClocks(now, s.picture, s.dump), s.dump]);
      return ops;
    }
    case 'date': {
      const t = (o as Date).getTime();
      if (!Object.is(t, s.time)) ops.push(['time', t, s.time]);
      return ops;
    }
    case 'bytes': {
      const now = ArrayBuffer.isView(o) ? new Uint8Array(o.buffer, o.byteOffset, o.byteLength) : new Uint8Array(o as ArrayBuffer);
      if (!Buffer.from(now).equals(Buffer.from(s.bytes))) ops.push(['bytes', now.slice(), s.bytes]);
      return ops;
    }
  }
}

function diffProps(o: object, props: Map<string | symbol, unknown>, length: number | undefined, ops: Op[]): void {
  const keys = trackedKeys(o, builtinKind(o));
  const seen = new Set<string | symbol>();
  const isArr = Array.isArray(o);
  if (isArr && (o as unknown[]).length < (length ?? 0)) ops.push(['len', (o as unknown[]).length, length!]);
  for (const k of keys) {
    if (isArr && k === 'length') continue;
    const d = Object.getOwnPropertyDescriptor(o, k);
    if (!d || !('value' in d)) continue;
    seen.add(k);
    const had = props.has(k);
    const old = props.get(k);
    if (!had || !Object.is(old, d.value)) ops.push(['set', k, d.value, old, had]);
  }
  for (const [k, old] of props) if (!seen.has(k)) ops.push(['del', k, old]);
  reorderProps(o, keys.filter((k) => seen.has(k) && k !== 'length'), props, ops);
  if (isArr && (o as unknown[]).length > (length ?? 0)) ops.push(['len', (o as unknown[]).length, length!]);
}

const isIndexKey = (k: string | symbol): boolean => typeof k === 'string' && /^(?:0|[1-9]\d*)$/.test(k) && Number(k) < 4294967295;

/**
 * A plain object keeps its string keys (then its symbols) in insertion order, and JSON and
 * Object.keys show it: a key the handler deleted and set again moves to the end. The plain ops leave
 * it where it was on the server, so from the first place where the worker's order differs each key
 * is re-appended in the worker's order (a 'del' then a 'set' of the same key; both are validated
 * against the server's current value before either is applied). Integer keys are always in numeric
 * order and need nothing.
 */
function reorderProps(o: object, now: Array<string | symbol>, props: Map<string | symbol, unknown>, ops: Op[]): void {
  for (const symbols of [false, true]) {
    const inClass = (k: string | symbol) => typeof k === 'symbol' === symbols && !isIndexKey(k);
    reorder(
      now.filter(inClass),
      [...props.keys()].filter(inClass),
      ops,
      (k) => {
        const key = k as string | symbol;
        const v = (o as Record<string | symbol, unknown>)[key];
        const i = ops.findIndex((op) => op[0] === 'set' && op[1] === key);
        if (i >= 0) ops.splice(i, 1);
        if (!props.has(key)) return ['set', key, v, undefined, false];
        ops.push(['del', key, props.get(key)]);
        return ['set', key, v, props.get(key), true];
      },
    );
  }
}

/**
 * Maps and Sets keep insertion order, and apps rely on it (a Map used as an LRU: delete + set moves a
 * key to the end). The server's result of the plain ops is the surviving old keys in their old order,
 * then the new keys; from the first place where the worker's order differs, every key is re-appended
 * in the worker's order ('mre'/'sre' move an existing entry to the end).
 */
function reorder(
  now: unknown[],
  before: unknown[],
  ops: Op[],
  tail: (k: unknown) => Op,
  addNew?: (k: unknown) => void,
  isNew?: (k: unknown) => boolean,
): Op[] {
  const present = new Set(now);
  const expected = before.filter((k) => present.has(k));
  const old = new Set(before);
  for (const k of now) if (!old.has(k)) expected.push(k);
  let i = 0;
  while (i < now.length && Object.is(now[i], expected[i])) i++;
  if (addNew && isNew) for (let j = 0; j < i; j++) if (isNew(now[j])) addNew(now[j]);
  if (i === now.length) {
    if (addNew && isNew) for (let j = i; j < now.length; j++) if (isNew(now[j])) addNew(now[j]);
    return ops;
  }
  for (let j = i; j < now.length; j++) ops.push(tail(now[j]));
  return ops;
}
