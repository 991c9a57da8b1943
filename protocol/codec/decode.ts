import { ByteReader } from './bytes';
import { CodecErrors } from './errors';
import type { DecodeHooks } from './hooks';
import { CODEC_MAGIC, CODEC_VERSION, ERROR_KINDS, INTL_KINDS, Integrity, PropFlag, REF_KINDS, type RefKind, Tag, TYPED_ARRAY_KINDS } from './tags';

/** Decodes a closure codec stream. Any malformed, truncated or hostile input throws a coded CodecError. */
export function decode(bytes: Uint8Array, hooks: DecodeHooks = {}): unknown {
  return new Decoder(bytes, hooks).run();
}

const PENDING = Symbol('pending');

class Decoder {
  private readonly r: ByteReader;
  private readonly objects: unknown[] = [];
  private readonly maxDepth: number;
  private readonly maxObjects: number;

  constructor(bytes: Uint8Array, private readonly hooks: DecodeHooks) {
    this.r = new ByteReader(bytes);
    this.maxDepth = hooks.maxDepth ?? 2100;
    this.maxObjects = hooks.maxObjects ?? 1_000_000;
  }

  run(): unknown {
    const r = this.r;
    if (r.u8() !== CODEC_MAGIC) throw CodecErrors.MALFORMED('bad magic byte');
    const version = r.u8();
    if (version !== CODEC_VERSION) throw CodecErrors.VERSION(`got ${version}, speak ${CODEC_VERSION}`);
    const v = this.value(0);
    if (r.remaining !== 0) throw CodecErrors.MALFORMED(`${r.remaining} trailing bytes`);
    return v;
  }

  private register<T>(o: T, id: number): T {
    if (this.objects.length >= this.maxObjects) throw CodecErrors.TOO_LARGE(`more than ${this.maxObjects} objects`);
    // An object this side already holds: back-references resolve to it, and the copy being decoded
    // is scratch (see DecodeHooks.existing).
    const known = id !== 0 && o !== PENDING ? this.hooks.existing?.(id) : undefined;
    this.objects.push(known ?? o);
    if (!known && id !== 0 && o !== PENDING && ((typeof o === 'object' && o !== null) || typeof o === 'function')) this.hooks.onObject?.(o as object, id);
    return o;
  }

  /** The object a value with `id` stands for: the one this side already holds, if any. */
  private held<T>(v: T, id: number): T {
    if (id === 0 || !this.hooks.existing) return v;
    return (this.hooks.existing(id) as T | undefined) ?? v;
  }

  private value(depth: number): unknown {
    if (depth > this.maxDepth) throw CodecErrors.TOO_DEEP(`depth ${depth}`);
    const r = this.r;
    const tag = r.u8();
    const d = depth + 1;
    switch (tag) {
      case Tag.Undefined:
        return undefined;
      case Tag.Null:
        return null;
      case Tag.True:
        return true;
      case Tag.False:
        return false;
      case Tag.Int: {
        const z = r.varint();
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      case Tag.Float:
        return r.f64();
      case Tag.String:
        return r.str();
      case Tag.BigInt: {
        const s = r.str();
        if (!/^-?[0-9a-f]+$/.test(s)) throw CodecErrors.MALFORMED('bad bigint');
        return s.startsWith('-') ? -BigInt('0x' + s.slice(1)) : BigInt('0x' + s);
      }
      case Tag.Symbol:
        return Symbol.for(r.str());
      case Tag.WellKnownSymbol: {
        const name = r.str();
        const own = Object.prototype.hasOwnProperty.call(Symbol, name) ? (Symbol as unknown as Record<string, unknown>)[name] : undefined;
        const sym = typeof own === 'symbol' ? own : this.hooks.namedSymbol?.(name);
        if (typeof sym !== 'symbol' || Symbol.keyFor(sym) !== undefined) throw CodecErrors.MALFORMED(`unknown well-known symbol '${name}'`);
        return sym;
      }
      case Tag.UniqueSymbol: {
        const id = r.varint();
        const desc = r.str();
        if (!this.hooks.symbol) throw CodecErrors.BAD_REF(`no resolver for symbol ${id}`);
        return this.hooks.symbol(id, desc);
      }
      case Tag.Sub:
        return this.sub(d);
      case Tag.Before:
        this.value(d);
        return this.value(d);
      case Tag.Backref: {
        const i = r.varint();
        if (i >= this.objects.length) throw CodecErrors.MALFORMED(`back-reference ${i} to an object not yet seen`);
        const o = this.objects[i];
        if (o === PENDING) throw CodecErrors.MALFORMED(`back-reference ${i} into a value under construction`);
        return o;
      }
      case Tag.Ref: {
        const ref = r.varint();
        const kind = r.str() as RefKind;
        if (!REF_KINDS.includes(kind)) throw CodecErrors.MALFORMED(`unknown reference kind '${kind}'`);
        if (!this.hooks.ref) throw CodecErrors.BAD_REF(`no resolver for reference ${ref}`);
        return this.hooks.ref(ref, kind);
      }
      default:
        return this.object(tag, d);
    }
  }

  private object(tag: number, d: number): unknown {
    const id = this.r.varint();
    return this.held(this.objectInner(tag, d, id), id);
  }

  private objectInner(tag: number, d: number, id: number): unknown {
    const r = this.r;
    switch (tag) {
      case Tag.Object: {
        const nullProto = r.u8() === 1;
        const o = this.register(this.reused(id, 'object') ?? (nullProto ? Object.create(null) : {}), id);
        this.props(o, d);
        return this.seal(o);
      }
      case Tag.Array: {
        const length = r.varint();
        if (length > 2 ** 32 - 1) throw CodecErrors.MALFORMED('array length');
        const dense = r.u8() === 0;
        if (dense && length > r.remaining) throw CodecErrors.TRUNCATED(`dense array of ${length}`);
        const old = this.reused(id, 'array') as unknown[] | undefined;
        if (old) old.length = length;
        const a = this.register(old ?? new Array<unknown>(length), id);
        if (dense) for (let i = 0; i < length; i++) a[i] = this.value(d);
        this.props(a, d);
        return this.seal(a);
      }
      case Tag.Date:
        return this.register(new Date(r.f64()), id);
      case Tag.RegExp: {
        const source = r.str();
        const flags = r.str();
        let re: RegExp;
        try {
          re = new RegExp(source, flags);
        } catch (err) {
          throw CodecErrors.MALFORMED('bad regular expression', { cause: err });
        }
        re.lastIndex = r.varint();
        return this.register(re, id);
      }
      case Tag.Map: {
        const m = this.register((this.reused(id, 'map') as Map<unknown, unknown>) ?? new Map(), id);
        const n = r.length(2);
        for (let i = 0; i < n; i++) {
          const k = this.value(d);
          m.set(k, this.value(d));
        }
        return m;
      }
      case Tag.Set: {
        const s = this.register((this.reused(id, 'set') as Set<unknown>) ?? new Set(), id);
        const n = r.length();
        for (let i = 0; i < n; i++) s.add(this.value(d));
        return s;
      }
      case Tag.TypedArray: {
        const kind = r.str();
        const bytes = r.bytes();
        return this.register(makeView(kind, bytes), id);
      }
      case Tag.ArrayBuffer:
        return this.register(r.bytes().buffer, id);
      case Tag.Url: {
        const href = r.str();
        try {
          return this.register(new URL(href), id);
        } catch (err) {
          throw CodecErrors.MALFORMED('bad URL', { cause: err });
        }
      }
      case Tag.UrlSearchParams: {
        if (r.u8() === 0) return this.register(new URLSearchParams(r.str()), id);
        // A URL's own searchParams: linked to its URL, as on the other side.
        const i = this.objects.length;
        this.register(PENDING as unknown, 0);
        const url = this.value(d);
        if (!(url instanceof URL)) throw CodecErrors.MALFORMED('search params of a value that is not a URL');
        this.settle(i, url.searchParams, id);
        return url.searchParams;
      }
      case Tag.View: {
        const kind = r.str();
        const i = this.objects.length;
        this.register(PENDING as unknown, 0);
        const buf = this.value(d);
        const offset = r.varint();
        const length = r.varint();
        if (!(buf instanceof ArrayBuffer)) throw CodecErrors.MALFORMED('view onto a value that is not an ArrayBuffer');
        const view = makeViewOn(kind, buf, offset, length);
        this.settle(i, view, id);
        return view;
      }
      case Tag.Intl: {
        const name = r.str();
        if (!(INTL_KINDS as readonly string[]).includes(name)) throw CodecErrors.MALFORMED(`unknown Intl kind '${name}'`);
        const i = this.objects.length;
        this.register(PENDING as unknown, 0);
        const opts = this.value(d);
        const C = (Intl as unknown as Record<string, new (...a: unknown[]) => object>)[name];
        let v: object;
        try {
          v = name === 'Locale' ? new C(String(opts)) : new C((opts as { locale?: string })?.locale, opts);
        } catch (err) {
          throw CodecErrors.MALFORMED(`bad Intl.${name} options`, { cause: err });
        }
        this.settle(i, v, id);
        return v;
      }
      case Tag.Boxed: {
        const slot = this.register(PENDING as unknown, id);
        const i = this.objects.length - 1;
        const v = this.value(d);
        if (!['string', 'number', 'boolean', 'bigint', 'symbol'].includes(typeof v)) throw CodecErrors.MALFORMED('boxed non-primitive');
        const boxed = Object(v);
        this.settle(i, boxed, id);
        void slot;
        return boxed;
      }
      case Tag.Error: {
        const name = r.str();
        if (!(ERROR_KINDS as readonly string[]).includes(name)) throw CodecErrors.MALFORMED(`unknown error kind '${name}'`);
        const Ctor = (globalThis as unknown as Record<string, ErrorConstructor>)[name];
        const e = this.register(name === 'AggregateError' ? new AggregateError([]) : new Ctor(), id);
        this.props(e, d);
        return e;
      }
      case Tag.Instance: {
        // The shell exists before its class is decoded: a class's statics may hold its own instances.
        const o = this.register(this.reused(id, 'instance') ?? ({} as object), id);
        const cls = this.value(d);
        if (typeof cls !== 'function' || (typeof cls.prototype !== 'object' && typeof cls.prototype !== 'function')) {
          throw CodecErrors.MALFORMED('instance of a value that is not a class');
        }
        Object.setPrototypeOf(o, cls.prototype);
        this.props(o, d);
        const n = r.length();
        if (n > 0) {
          const entries: Array<[string, unknown]> = [];
          for (let i = 0; i < n; i++) {
            const name = r.str();
            entries.push([name, this.value(d)]);
          }
          if (!this.hooks.setPrivates) throw CodecErrors.UNSUPPORTED('private fields without a hook');
          this.hooks.setPrivates(o, entries);
        }
        return this.seal(o);
      }
      case Tag.Function: {
        const header = r.str();
        const pre = this.value(d);
        if (!this.hooks.createFunction) throw CodecErrors.UNSUPPORTED('function without a rebuild hook');
        const fn = this.hooks.createFunction(header, pre, id);
        this.register(fn, id);
        const data = this.value(d);
        this.hooks.fillFunction?.(fn, data);
        this.props(fn, d);
        return fn;
      }
      case Tag.Custom: {
        const i = this.objects.length;
        this.register(PENDING as unknown, 0);
        const name = r.str();
        const data = this.value(d);
        if (!this.hooks.custom) throw CodecErrors.UNSUPPORTED(`custom record '${name}' without a hook`);
        const v = this.hooks.custom(name, data);
        this.settle(i, v, id);
        return v;
      }
      default:
        throw CodecErrors.MALFORMED(`unknown tag 0x${tag.toString(16)}`);
    }
  }

  /** Fills a slot registered as pending, as `register` would have. */
  private settle(i: number, v: unknown, id: number): void {
    const known = id !== 0 ? this.hooks.existing?.(id) : undefined;
    this.objects[i] = known ?? v;
    if (!known && id !== 0 && v !== null && (typeof v === 'object' || typeof v === 'function')) this.hooks.onObject?.(v as object, id);
  }

  /** A built-in with a class and own properties: the inner value first, then its class, then its properties. */
  private sub(d: number): unknown {
    const tag = this.r.u8();
    if (tag === Tag.Before) {
      // The inner value's buffer came first (see Tag.Before); the inner value follows.
      this.value(d);
      return this.subOf(this.value(d) as object, d);
    }
    if (tag < Tag.Object || tag === Tag.Instance || tag === Tag.Function || tag === Tag.Custom || tag === Tag.Object) throw CodecErrors.MALFORMED(`sub-classed value of tag 0x${tag.toString(16)}`);
    return this.subOf(this.object(tag, d) as object, d);
  }

  private subOf(v: object, d: number): unknown {
    if (v === null || typeof v !== 'object') throw CodecErrors.MALFORMED('sub-classed value that is not an object');
    const cls = this.value(d);
    if (cls !== null) {
      if (typeof cls !== 'function' || cls.prototype === null || (typeof cls.prototype !== 'object' && typeof cls.prototype !== 'function')) {
        throw CodecErrors.MALFORMED('built-in of a value that is not a class');
      }
      Object.setPrototypeOf(v, cls.prototype);
    }
    this.props(v, d);
    return v;
  }

  /** An existing object to decode into, emptied; only when the kinds agree. */
  private reused(id: number, kind: 'object' | 'array' | 'map' | 'set' | 'instance'): object | undefined {
    if (id === 0 || !this.hooks.reuse) return undefined;
    const o = this.hooks.reuse(id);
    if (!o || typeof o !== 'object') return undefined;
    if (kind === 'map') return o instanceof Map ? (o.clear(), o) : undefined;
    if (kind === 'set') return o instanceof Set ? (o.clear(), o) : undefined;
    if (kind === 'array' && !Array.isArray(o)) return undefined;
    if ((kind === 'object' || kind === 'instance') && (Array.isArray(o) || o instanceof Map || o instanceof Set)) return undefined;
    if (!Object.isExtensible(o)) return undefined;
    for (const k of Reflect.ownKeys(o)) {
      if (kind === 'array' && k === 'length') continue;
      const desc = Object.getOwnPropertyDescriptor(o, k);
      if (desc?.configurable) delete (o as Record<string | symbol, unknown>)[k];
    }
    return o;
  }

  private props(o: object, d: number): void {
    const r = this.r;
    const n = r.length(2);
    if (n === 0) return;
    // Plain objects and arrays take ordinary data properties by assignment (much faster than
    // defineProperty); anything with a prototype of its own may have setters there, so it is defined.
    const proto = Object.getPrototypeOf(o);
    const assignable = proto === Object.prototype || proto === null || proto === Array.prototype;
    for (let i = 0; i < n; i++) {
      const flags = r.u8();
      let key: string | symbol;
      if (flags & PropFlag.SymbolKey) {
        const k = this.value(d);
        if (typeof k !== 'symbol') throw CodecErrors.MALFORMED('symbol key that is not a symbol');
        key = k;
      } else {
        key = r.str();
        if (flags === 0 && assignable && key !== '__proto__') {
          (o as Record<string, unknown>)[key] = this.value(d);
          continue;
        }
      }
      if (key === '__proto__' && !(flags & PropFlag.Accessor)) {
        // Defined, never assigned: assignment would change the prototype.
      }
      const desc: PropertyDescriptor = { enumerable: !(flags & PropFlag.NonEnumerable), configurable: !(flags & PropFlag.NonConfigurable) };
      if (flags & PropFlag.Accessor) {
        const get = this.value(d);
        const set = this.value(d);
        if ((get !== undefined && typeof get !== 'function') || (set !== undefined && typeof set !== 'function')) {
          throw CodecErrors.MALFORMED('accessor that is not a function');
        }
        desc.get = get as () => unknown;
        desc.set = set as (v: unknown) => void;
      } else {
        desc.value = this.value(d);
        desc.writable = !(flags & PropFlag.NonWritable);
      }
      try {
        Object.defineProperty(o, key, desc);
      } catch (err) {
        throw CodecErrors.MALFORMED(`cannot define property '${String(key)}'`, { cause: err });
      }
    }
  }

  private seal<T extends object>(o: T): T {
    const level = this.r.u8() as Integrity;
    if (level === Integrity.Frozen) Object.freeze(o);
    else if (level === Integrity.Sealed) Object.seal(o);
    else if (level === Integrity.NonExtensible) Object.preventExtensions(o);
    else if (level !== Integrity.None) throw CodecErrors.MALFORMED('bad integrity level');
    return o;
  }
}

function makeViewOn(kind: string, buf: ArrayBuffer, offset: number, length: number): ArrayBufferView {
  if (!(TYPED_ARRAY_KINDS as readonly string[]).includes(kind)) throw CodecErrors.MALFORMED(`unknown typed array kind '${kind}'`);
  try {
    if (kind === 'Buffer') return Buffer.from(buf, offset, length);
    if (kind === 'DataView') return new DataView(buf, offset, length);
    const Ctor = (globalThis as unknown as Record<string, new (b: ArrayBuffer, o: number, l: number) => ArrayBufferView>)[kind];
    return new Ctor(buf, offset, length);
  } catch (err) {
    throw CodecErrors.MALFORMED(`${kind} view out of its buffer's bounds`, { cause: err });
  }
}

function makeView(kind: string, bytes: Uint8Array): ArrayBufferView {
  if (!(TYPED_ARRAY_KINDS as readonly string[]).includes(kind)) throw CodecErrors.MALFORMED(`unknown typed array kind '${kind}'`);
  const buf = bytes.buffer as ArrayBuffer;
  if (kind === 'Buffer') return Buffer.from(buf, 0, bytes.byteLength);
  if (kind === 'DataView') return new DataView(buf);
  const Ctor = (globalThis as unknown as Record<string, { new (b: ArrayBuffer): ArrayBufferView; BYTES_PER_ELEMENT: number }>)[kind];
  if (bytes.byteLength % Ctor.BYTES_PER_ELEMENT !== 0) throw CodecErrors.MALFORMED(`${kind} of ${bytes.byteLength} bytes`);
  return new Ctor(buf);
}
