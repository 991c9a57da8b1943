import { types } from 'node:util';
import { ByteWriter } from './bytes';
import { CodecErrors } from './errors';
import type { EncodeHooks, Replacement } from './hooks';
import { builtinKind, classOf, errorBase, extraKeys, functionOwnKeys, intlKind, intlOptions, isArrayIndex, isPlainProto, ownKeys, refKindOf, refusalOf, typedArrayKind, type BuiltinName } from './classify';
import { planInline, replacementOf } from './plan';
import { CODEC_MAGIC, CODEC_VERSION, Integrity, PropFlag, Tag, WELL_KNOWN_SYMBOLS } from './tags';

export interface EncodeResult {
  bytes: Buffer;
  /** Objects encoded inline (identity-carrying copies on the other side). */
  objects: number;
  /** Objects replaced by remote references. */
  refs: number;
  /** `unplannedFirst` was asked and did not serve (past the budget, or a refusal met): the stream was planned and encoded again. */
  replanned?: boolean;
}

/** Thrown inside an unplanned first pass that goes past its budget (never leaves the encoder). */
const PAST_BUDGET = Symbol('past budget');

/** Encodes any value of the closure codec (DESIGN.md §4) into a self-describing byte stream. */
export function encode(value: unknown, hooks: EncodeHooks = {}): EncodeResult {
  return new Encoder(hooks).run(value);
}

class Encoder {
  private readonly w = new ByteWriter();
  private readonly index = new Map<object, number>();
  private outside?: Set<object>;
  private sharedBuffers?: Set<ArrayBuffer>;
  private paramsOwner?: Map<object, URL>;
  private refs = 0;
  private readonly maxDepth: number;
  /** An unplanned first pass's byte budget (EncodeHooks.unplannedFirst); past it, or deeper than a plan goes, the pass stops. */
  private cap?: number;
  /**
   * Without a plan: buffers met through a view that does not cover them, and whether a
   * URLSearchParams was met. Either may need linking to another value of the graph, which only the
   * plan can tell: then the stream is encoded again, planned.
   */
  private partialBuffers?: Set<ArrayBuffer>;
  private needsLinks = false;

  constructor(
    private readonly hooks: EncodeHooks,
    private readonly planned = false,
    /** One hook decision per object, shared by a second, planned pass. */
    private readonly replaced = new Map<object, Replacement | undefined>(),
  ) {
    this.maxDepth = (hooks.maxDepth ?? 1000) * 2;
  }

  run(value: unknown): EncodeResult {
    const budgeted = this.hooks.budget !== undefined && Number.isFinite(this.hooks.budget);
    if (budgeted && !this.planned && this.hooks.unplannedFirst) {
      // Most closures are far under their budget: encode unplanned, capped at it, and plan only a
      // stream that goes past it. The second pass shares the hook decisions (`replace` answers once).
      this.cap = this.hooks.budget!;
      this.partialBuffers = new Set();
      try {
        return this.encodeValue(value);
      } catch {
        // Past the budget, or a refusal (or a hook's "plan first") met in what the plan may leave
        // outside, where it is then never refused: the planned stream decides, and a refusal it
        // meets is the one reported, as without this pass.
        return { ...new Encoder(this.hooks, true, this.replaced).run(value), replanned: true };
      }
    }
    if (budgeted || this.planned) {
      // The plan finds what must travel linked (views sharing one buffer, a URL's own searchParams);
      // only a budget leaves objects outside.
      const plan = planInline(value, budgeted ? this.hooks : { ...this.hooks, budget: undefined }, this.replaced);
      if (budgeted) this.outside = plan.outside;
      this.sharedBuffers = plan.sharedBuffers;
      this.paramsOwner = plan.paramsOwner;
    } else this.partialBuffers = new Set();
    return this.encodeValue(value);
  }

  private encodeValue(value: unknown): EncodeResult {
    this.w.u8(CODEC_MAGIC);
    this.w.u8(CODEC_VERSION);
    this.value(value, 0);
    // Most streams without a budget (a worker's outcome, a lock's refresh) hold no views and no
    // search params: planning them every time would cost as much as the encoding.
    if (this.needsLinks) return new Encoder(this.hooks, true, this.replaced).run(value);
    return { bytes: this.w.finish(), objects: this.index.size, refs: this.refs };
  }

  private value(v: unknown, depth: number): void {
    const w = this.w;
    switch (typeof v) {
      case 'undefined':
        return w.u8(Tag.Undefined);
      case 'boolean':
        return w.u8(v ? Tag.True : Tag.False);
      case 'number':
        if (Number.isInteger(v) && Math.abs(v) < 2 ** 48 && !Object.is(v, -0)) {
          w.u8(Tag.Int);
          return w.varint(v >= 0 ? v * 2 : -v * 2 - 1);
        }
        w.u8(Tag.Float);
        return w.f64(v);
      case 'string':
        w.u8(Tag.String);
        return w.str(v);
      case 'bigint':
        w.u8(Tag.BigInt);
        return w.str(v.toString(16));
      case 'symbol': {
        const key = Symbol.keyFor(v);
        if (key !== undefined) {
          w.u8(Tag.Symbol);
          return w.str(key);
        }
        const wk = WELL_KNOWN_SYMBOLS.get(v) ?? this.hooks.symbolName?.(v);
        if (wk !== undefined) {
          w.u8(Tag.WellKnownSymbol);
          return w.str(wk);
        }
        const sid = this.hooks.symbolId?.(v);
        if (sid === undefined) throw CodecErrors.UNSUPPORTED(`the unregistered symbol ${String(v)}`);
        w.u8(Tag.UniqueSymbol);
        w.varint(sid);
        return w.str(v.description ?? '');
      }
      default:
        if (v === null) return w.u8(Tag.Null);
        return this.object(v as object, depth);
    }
  }

  private object(o: object, depth: number, inner = false): void {
    const w = this.w;
    const seen = this.index.get(o);
    if (seen !== undefined && !inner) {
      w.u8(Tag.Backref);
      return w.varint(seen);
    }
    const rep = replacementOf(o, this.hooks, this.replaced, this.cap !== undefined);
    if (rep && 'ref' in rep) return this.ref(rep.ref, rep.kind);
    // Half the encoder's depth limit: about the plan's own (each object level is two here).
    if (this.cap !== undefined && (w.pos > this.cap || depth > this.maxDepth / 2)) throw PAST_BUDGET;
    if (this.outside?.has(o) || depth > this.maxDepth) {
      if (!this.hooks.overBudget) throw CodecErrors.TOO_DEEP(`depth ${depth}`);
      const r = this.hooks.overBudget(o, refKindOf(o));
      return this.ref(r.ref, r.kind);
    }
    const id = this.hooks.idOf?.(o) ?? 0;
    const begin = (tag: Tag) => {
      w.u8(tag);
      this.index.set(o, this.index.size);
      w.varint(id);
    };
    const d = depth + 1;
    if (rep && 'custom' in rep) {
      begin(Tag.Custom);
      w.str(rep.custom);
      return this.value(rep.data, d);
    }
    // Closed world: anything the codec does not fully understand is refused here, named.
    const why = refusalOf(o);
    if (why) throw CodecErrors.UNSUPPORTED(why);
    if (typeof o === 'function') {
      if (!rep || !('fn' in rep)) throw CodecErrors.UNSUPPORTED(`function ${o.name || '(anonymous)'} without a code record`);
      w.u8(Tag.Function);
      w.varint(id);
      w.str(rep.fn.header);
      // The index is taken after `pre` (a superclass): the function cannot exist before it.
      this.value(rep.fn.pre, d);
      if (this.index.has(o)) throw CodecErrors.UNSUPPORTED(`class ${o.name} is reachable from its own superclass's data`);
      this.index.set(o, this.index.size);
      this.value(rep.fn.data, d);
      return this.props(o, functionOwnKeys(o), d);
    }
    const proto = Object.getPrototypeOf(o);
    if (Array.isArray(o)) {
      if (!inner && proto !== Array.prototype) return this.sub(o, d, []);
      return this.array(o, begin, d);
    }
    if (types.isNativeError(o)) {
      const base = errorBase(o);
      if (!base) throw CodecErrors.UNSUPPORTED(`an error whose prototype chain has no built-in error (${describe(o)})`);
      if (!inner && proto !== base.prototype) return this.sub(o, d, []);
      begin(Tag.Error);
      w.str(base.name);
      return this.props(o, ownKeys(o), d);
    }
    const builtin = builtinKind(o);
    if (builtin) {
      if (!inner) {
        const extra = extraKeys(o, builtin);
        if (proto !== builtin.proto || extra.length > 0) return this.sub(o, d, extra);
      }
      return this.builtin(o, builtin.kind, begin, d);
    }
    if (isPlainProto(proto)) {
      begin(Tag.Object);
      w.u8(proto === null ? 1 : 0);
      this.props(o, ownKeys(o), d);
      return w.u8(integrity(o));
    }
    const ctor = classOf(proto);
    if (!ctor) throw CodecErrors.UNSUPPORTED(`an object with a prototype that is not a class's (${describe(o)})`);
    begin(Tag.Instance);
    this.value(ctor, d);
    this.props(o, ownKeys(o), d);
    const priv = this.hooks.privates?.(o) ?? [];
    w.varint(priv.length);
    for (const [name, v] of priv) {
      w.str(name);
      this.value(v, d);
    }
    w.u8(integrity(o));
  }

  /**
   * A built-in with more than its built-in state: `class Stack extends Array`, a Map with own
   * properties. The inner value carries the built-in state; then its class and own properties.
   */
  private sub(o: object, d: number, extra: Array<string | symbol>): void {
    const proto = Object.getPrototypeOf(o);
    this.w.u8(Tag.Sub);
    this.object(o, d, true);
    const base = builtinKind(o)?.proto ?? (Array.isArray(o) ? Array.prototype : errorBase(o)?.prototype);
    if (proto === base) this.value(null, d);
    else {
      const ctor = classOf(proto);
      if (!ctor) throw CodecErrors.UNSUPPORTED(`a built-in with a prototype that is not a class's (${describe(o)})`);
      this.value(ctor, d);
    }
    this.props(o, extra, d);
  }

  private builtin(o: object, kind: BuiltinName, begin: (t: Tag) => void, d: number): void {
    const w = this.w;
    switch (kind) {
      case 'Date':
        begin(Tag.Date);
        return w.f64((o as Date).getTime());
      case 'RegExp': {
        const re = o as RegExp;
        begin(Tag.RegExp);
        w.str(re.source);
        w.str(re.flags);
        return w.varint(re.lastIndex);
      }
      case 'Map': {
        const m = o as Map<unknown, unknown>;
        begin(Tag.Map);
        w.varint(m.size);
        for (const [k, v] of m) {
          this.value(k, d);
          this.value(v, d);
        }
        return;
      }
      case 'Set': {
        const set = o as Set<unknown>;
        begin(Tag.Set);
        w.varint(set.size);
        for (const v of set) this.value(v, d);
        return;
      }
      case 'View': {
        const view = o as ArrayBufferView;
        const ta = typedArrayKind(o)!;
        const buf = view.buffer as ArrayBuffer;
        // Views onto one buffer stay views onto one buffer: the buffer travels once, with identity.
        if (this.sharedBuffers?.has(buf) || this.index.has(buf) || (view.byteOffset === 0 && view.byteLength === buf.byteLength)) {
          if (!this.index.has(buf)) {
            // The buffer first, with its identity: its own properties may hold this very view.
            w.u8(Tag.Before);
            this.value(buf, d);
            const seen = this.index.get(o);
            if (seen !== undefined) {
              w.u8(Tag.Backref);
              return w.varint(seen);
            }
          }
          begin(Tag.View);
          w.str(ta);
          this.value(buf, d);
          w.varint(view.byteOffset);
          return w.varint(ta === 'DataView' ? view.byteLength : (view as Uint8Array).length);
        }
        if (this.partialBuffers) {
          if (this.partialBuffers.has(buf)) this.needsLinks = true;
          this.partialBuffers.add(buf);
        }
        begin(Tag.TypedArray);
        w.str(ta);
        return w.bytes(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      }
      case 'ArrayBuffer':
        // A buffer a partial view was already copied from: they must share it.
        if (this.partialBuffers?.has(o as ArrayBuffer)) this.needsLinks = true;
        begin(Tag.ArrayBuffer);
        return w.bytes(new Uint8Array(o as ArrayBuffer));
      case 'URL':
        begin(Tag.Url);
        return w.str((o as URL).href);
      case 'URLSearchParams': {
        if (!this.paramsOwner) this.needsLinks = true;
        begin(Tag.UrlSearchParams);
        // A URL's own searchParams stays linked to it.
        const owner = this.paramsOwner?.get(o);
        if (owner) {
          w.u8(1);
          return this.value(owner, d);
        }
        w.u8(0);
        return w.str(o.toString());
      }
      case 'Boxed':
        begin(Tag.Boxed);
        return this.value((o as { valueOf(): unknown }).valueOf(), d);
      case 'Intl': {
        const name = intlKind(o)!;
        begin(Tag.Intl);
        w.str(name);
        return this.value(intlOptions(o, name), d);
      }
    }
  }

  private array(a: unknown[], begin: (t: Tag) => void, d: number): void {
    const w = this.w;
    begin(Tag.Array);
    w.varint(a.length);
    const keys = ownKeys(a);
    // Own keys list the indices first, ascending, then 'length': exactly those means every index is
    // present and nothing else is there (the common case, without a key-by-key pass).
    const onlyIndices = keys.length === a.length + 1 && keys[a.length] === 'length';
    let dense: boolean;
    if (onlyIndices) {
      dense = true;
      for (let i = 0; i < a.length && dense; i++) dense = isDataEnumerable(a, String(i));
    } else {
      let indexCount = 0;
      for (const k of keys) if (typeof k === 'string' && isArrayIndex(k)) indexCount++;
      dense = indexCount === a.length && keys.every((k) => typeof k !== 'string' || !isArrayIndex(k) || isDataEnumerable(a, k));
    }
    w.u8(dense ? 0 : 1);
    if (dense) for (let i = 0; i < a.length; i++) this.value(a[i], d);
    const rest = onlyIndices && dense ? [] : keys.filter((k) => k !== 'length' && (!dense || typeof k !== 'string' || !isArrayIndex(k)));
    this.props(a, rest, d);
    w.u8(integrity(a));
  }

  private props(o: object, keys: Array<string | symbol>, d: number): void {
    const w = this.w;
    const descs: Array<[string | symbol, PropertyDescriptor]> = [];
    for (const k of keys) {
      const desc = Object.getOwnPropertyDescriptor(o, k);
      if (desc) descs.push([k, desc]);
    }
    w.varint(descs.length);
    for (const [k, desc] of descs) {
      let flags = 0;
      if (!('value' in desc)) flags |= PropFlag.Accessor;
      if (!desc.enumerable) flags |= PropFlag.NonEnumerable;
      if ('value' in desc && !desc.writable) flags |= PropFlag.NonWritable;
      if (!desc.configurable) flags |= PropFlag.NonConfigurable;
      if (typeof k === 'symbol') flags |= PropFlag.SymbolKey;
      w.u8(flags);
      if (typeof k === 'symbol') this.value(k, d);
      else w.str(k);
      if ('value' in desc) this.value(desc.value, d);
      else {
        this.value(desc.get, d);
        this.value(desc.set, d);
      }
    }
  }

  private ref(ref: number, kind: string): void {
    this.refs++;
    this.w.u8(Tag.Ref);
    this.w.varint(ref);
    this.w.str(kind);
  }
}

function isDataEnumerable(o: object, k: string): boolean {
  const d = Object.getOwnPropertyDescriptor(o, k);
  return !!d && 'value' in d && !!d.enumerable && !!d.writable && !!d.configurable;
}

function integrity(o: object): Integrity {
  if (Object.isExtensible(o)) return Integrity.None;
  if (Object.isFrozen(o)) return Integrity.Frozen;
  if (Object.isSealed(o)) return Integrity.Sealed;
  return Integrity.NonExtensible;
}

function describe(o: object): string {
  try {
    return Object.prototype.toString.call(o);
  } catch {
    return 'object';
  }
}
