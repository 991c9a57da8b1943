import { types } from 'node:util';
import { CodecErrors } from './errors';
import { INTL_KINDS, type RefKind } from './tags';
import { isLruCache } from './lru';

/** Built-in prototypes whose instances the codec carries as plain data. */
export function isPlainProto(proto: unknown): boolean {
  return proto === Object.prototype || proto === null;
}

const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)!.get!;
export function typedArrayKind(v: object): string | undefined {
  if (Buffer.isBuffer(v)) return 'Buffer';
  if (types.isDataView(v)) return 'DataView';
  // The built-in kind by its internal slot, whatever subclass or prototype it has.
  if (types.isTypedArray(v)) return typedArrayName.call(v) as string;
  return undefined;
}

/** The Proxy shape a remote reference to `v` needs on the other side. */
export function refKindOf(v: object): RefKind {
  if (typeof v === 'function') return /^class[\s{]/.test(Function.prototype.toString.call(v)) ? 'class' : 'function';
  if (Array.isArray(v)) return 'array';
  // Left on the server whatever happens: what the worker does with them runs there (offload-worker/remote-weak.ts).
  if (types.isWeakMap(v)) return 'weakmap';
  if (types.isWeakSet(v)) return 'weakset';
  if (types.isPromise(v)) return 'promise';
  if (isLruCache(v)) return 'lru';
  if (types.isMap(v)) return 'map';
  if (types.isSet(v)) return 'set';
  if (types.isDate(v)) return 'date';
  const proto = Object.getPrototypeOf(v);
  if (isPlainProto(proto)) return 'object';
  if (proto && typeof proto.constructor === 'function' && proto.constructor.prototype === proto) return 'instance';
  return 'other';
}

/**
 * Own properties: every key, symbols included. A symbol key the encoder cannot name (neither
 * registered, well-known, nor given an identity by its hooks) refuses the value: dropping it would
 * be a lossy copy.
 */
export function ownKeys(v: object): Array<string | symbol> {
  return Reflect.ownKeys(v);
}

const FN_SKIP = new Set(['length', 'name', 'prototype', 'caller', 'arguments']);
/**
 * A function's own properties other than the ones every function has (class statics, `fn.cache`),
 * and its `prototype` when it is not the default one: an ES5 constructor's methods, `util.inherits`,
 * lodash's wrapper classes. A class's `prototype` is rebuilt by its own source.
 */
export function functionOwnKeys(fn: Function): Array<string | symbol> {
  const keys = ownKeys(fn).filter((k) => !(typeof k === 'string' && FN_SKIP.has(k)));
  if (hasOwnPrototype(fn)) keys.push('prototype');
  return keys;
}

const GENERATOR_PROTO = Object.getPrototypeOf(function* () {}).prototype;
const ASYNC_GENERATOR_PROTO = Object.getPrototypeOf(async function* () {}).prototype;

/** The function's `prototype` carries state its source does not recreate. */
export function hasOwnPrototype(fn: Function): boolean {
  const d = Object.getOwnPropertyDescriptor(fn, 'prototype');
  if (!d || !('value' in d) || !d.writable) return false; // classes: non-writable, rebuilt from source
  const p = d.value as unknown;
  if (p === null || typeof p !== 'object') return p !== undefined;
  const pp = Object.getPrototypeOf(p);
  const keys = Reflect.ownKeys(p);
  if (pp === GENERATOR_PROTO || pp === ASYNC_GENERATOR_PROTO) return keys.length > 0;
  if (pp !== Object.prototype) return true;
  if (keys.length === 0) return true;
  return !(keys.length === 1 && keys[0] === 'constructor' && (p as { constructor: unknown }).constructor === fn);
}

export function isArrayIndex(k: string): boolean {
  if (k === '0') return true;
  if (k.length > 10 || k.charCodeAt(0) < 49 || k.charCodeAt(0) > 57) return false;
  for (let i = 1; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return Number(k) < 4294967295;
}

/**
 * The closed world (DESIGN.md §4a): why the codec cannot carry `o` whole, or undefined when it can.
 * A value of a kind the codec does not understand is refused with the kind named — it is never
 * copied as its constructor and own properties. The prototype-chain part is decided once per
 * prototype and cached.
 */
export function refusalOf(o: object): string | undefined {
  if (types.isProxy(o)) return 'a Proxy (its traps cannot be copied)';
  // Functions travel as code records, decided by the encoder's hooks.
  if (typeof o === 'function') return undefined;
  // An array has no other internal kind: none of the checks below can match it.
  if (Array.isArray(o)) return protoRefusal(Object.getPrototypeOf(o));
  if (types.isWeakMap(o)) return 'a WeakMap (its entries cannot be enumerated)';
  if (types.isWeakSet(o)) return 'a WeakSet (its entries cannot be enumerated)';
  if (types.isPromise(o)) return 'a pending Promise';
  if (types.isGeneratorObject(o)) return 'a generator object (its suspended state cannot be copied)';
  if (types.isModuleNamespaceObject(o)) return 'an ES module namespace object';
  if (types.isExternal(o)) return 'a native external value';
  if (types.isKeyObject(o) || types.isCryptoKey(o)) return 'a crypto key';
  if (types.isSharedArrayBuffer(o)) return 'a SharedArrayBuffer (memory shared with other threads)';
  if (types.isArgumentsObject(o)) return 'an arguments object';
  if (types.isMapIterator(o) || types.isSetIterator(o)) return 'a Map or Set iterator';
  if (typeof WeakRef === 'function' && o instanceof WeakRef) return 'a WeakRef';
  if (typeof FinalizationRegistry === 'function' && o instanceof FinalizationRegistry) return 'a FinalizationRegistry';
  return protoRefusal(Object.getPrototypeOf(o));
}

/** Built-in prototypes whose instances' state the codec's own rules carry (identified by brand, not by prototype). */
const CARRIED = new Set<unknown>([
  Object.prototype, Array.prototype, Map.prototype, Set.prototype, Date.prototype, RegExp.prototype, ArrayBuffer.prototype,
  DataView.prototype, Object.getPrototypeOf(Uint8Array.prototype), URL.prototype, URLSearchParams.prototype, Function.prototype,
  Boolean.prototype, Number.prototype, String.prototype, Symbol.prototype, BigInt.prototype, Promise.prototype,
  Error.prototype, TypeError.prototype, RangeError.prototype, SyntaxError.prototype, ReferenceError.prototype, EvalError.prototype,
  URIError.prototype, AggregateError.prototype, Buffer.prototype,
  ...['Uint8Array', 'Int8Array', 'Uint8ClampedArray', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']
    .map((n) => (globalThis as unknown as Record<string, { prototype: object }>)[n].prototype),
  ...Object.values(Object.getOwnPropertyDescriptors(Intl)).map((d) => (typeof d.value === 'function' ? d.value.prototype : undefined)).filter(Boolean),
]);

/** A built-in prototype whose instances the codec's own rules carry. */
export function isCarriedProto(p: object): boolean {
  return CARRIED.has(p);
}

const protoVerdicts = new WeakMap<object, string | null>();
function protoRefusal(proto: object | null): string | undefined {
  if (proto === null) return undefined;
  let v = protoVerdicts.get(proto);
  if (v === undefined) {
    v = null;
    for (let p: object | null = proto; p !== null && !CARRIED.has(p); p = Object.getPrototypeOf(p)) {
      const ctor = Object.getOwnPropertyDescriptor(p, 'constructor')?.value as Function | undefined;
      if (typeof ctor === 'function' && isNativeCode(ctor)) {
        v = `an instance of ${ctor.name || 'a built-in class'}, a built-in kind whose internal state the codec does not carry`;
        break;
      }
      const tag = Object.getOwnPropertyDescriptor(p, Symbol.toStringTag)?.value;
      if (typeof ctor !== 'function' && typeof tag === 'string' && Object.getPrototypeOf(p) === Object.prototype && !isAppTag(p)) {
        v = `an object of the built-in kind ${tag}`;
        break;
      }
    }
    protoVerdicts.set(proto, v);
  }
  return v ?? undefined;
}

/** A prototype without a constructor but with a toStringTag is an engine one (%GeneratorPrototype%...), unless its methods are the app's. */
function isAppTag(p: object): boolean {
  return Reflect.ownKeys(p).some((k) => {
    const d = Object.getOwnPropertyDescriptor(p, k);
    return typeof d?.value === 'function' && !isNativeCode(d.value);
  });
}

export function isNativeCode(fn: Function): boolean {
  try {
    return /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(fn));
  } catch {
    return true;
  }
}

/** The Intl constructor whose internal slots `o` has, by brand check. */
const INTL_PROTOS = new Map<object, string>();
for (const n of INTL_KINDS) {
  const p = (Intl as unknown as Record<string, { prototype: object } | undefined>)[n]?.prototype;
  if (p) INTL_PROTOS.set(p, n);
}
export function intlKind(o: object): string | undefined {
  for (let p = Object.getPrototypeOf(o); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const name = INTL_PROTOS.get(p);
    if (!name) continue;
    const C = (Intl as unknown as Record<string, { prototype: object }>)[name];
    try {
      if (name === 'Locale') Reflect.apply(Object.getOwnPropertyDescriptor(C.prototype, 'baseName')!.get!, o, []);
      else Reflect.apply((C.prototype as { resolvedOptions: () => unknown }).resolvedOptions, o, []);
      return name;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Objects the codec carries by its built-in rules (not as class instances). */
export function isCodecBuiltin(v: object): boolean {
  return (
    Array.isArray(v) || types.isDate(v) || types.isRegExp(v) || types.isMap(v) || types.isSet(v) || ArrayBuffer.isView(v) ||
    types.isAnyArrayBuffer(v) || types.isBoxedPrimitive(v) || types.isNativeError(v) || v instanceof URL || v instanceof URLSearchParams
  );
}

export type BuiltinName = 'Date' | 'RegExp' | 'Map' | 'Set' | 'View' | 'ArrayBuffer' | 'URL' | 'URLSearchParams' | 'Boxed' | 'Intl';

const BOXED_PROTOS = [String.prototype, Number.prototype, Boolean.prototype, BigInt.prototype, Symbol.prototype];

/** Which built-in state `o` has (by brand, whatever its prototype), and that built-in's own prototype. */
export function builtinKind(o: object): { kind: BuiltinName; proto: object } | undefined {
  if (types.isDate(o)) return { kind: 'Date', proto: Date.prototype };
  if (types.isRegExp(o)) return { kind: 'RegExp', proto: RegExp.prototype };
  if (types.isMap(o)) return { kind: 'Map', proto: Map.prototype };
  if (types.isSet(o)) return { kind: 'Set', proto: Set.prototype };
  if (ArrayBuffer.isView(o)) {
    const ta = typedArrayKind(o);
    const proto = ta === 'Buffer' ? Buffer.prototype : (globalThis as unknown as Record<string, { prototype: object }>)[ta ?? 'DataView'].prototype;
    return { kind: 'View', proto };
  }
  if (types.isArrayBuffer(o)) return { kind: 'ArrayBuffer', proto: ArrayBuffer.prototype };
  if (types.isBoxedPrimitive(o)) {
    const proto = BOXED_PROTOS.find((p) => {
      try {
        (p as { valueOf: () => unknown }).valueOf.call(o);
        return true;
      } catch {
        return false;
      }
    })!;
    return { kind: 'Boxed', proto };
  }
  // URL, URLSearchParams and Intl objects are found by prototype first: plain objects stop here.
  const own = Object.getPrototypeOf(o);
  if (own === Object.prototype || own === null || own === Array.prototype || own === Function.prototype) return undefined;
  if (isUrl(o)) return { kind: 'URL', proto: URL.prototype };
  if (isSearchParams(o)) return { kind: 'URLSearchParams', proto: URLSearchParams.prototype };
  const ik = intlKind(o);
  if (ik) return { kind: 'Intl', proto: (Intl as unknown as Record<string, { prototype: object }>)[ik].prototype };
  return undefined;
}

/** Brand checks: `instanceof` would accept an object whose prototype is URL.prototype but has no URL state. */
function isUrl(o: object): boolean {
  if (!(o instanceof URL)) return false;
  try {
    Reflect.apply(Object.getOwnPropertyDescriptor(URL.prototype, 'href')!.get!, o, []);
    return true;
  } catch {
    return false;
  }
}
function isSearchParams(o: object): boolean {
  if (!(o instanceof URLSearchParams)) return false;
  try {
    Reflect.apply(URLSearchParams.prototype.toString, o, []);
    return true;
  } catch {
    return false;
  }
}

/** Own properties of a built-in beyond what its built-in state accounts for (element indices, a RegExp's lastIndex). */
export function extraKeys(o: object, b: { kind: BuiltinName }): Array<string | symbol> {
  if (b.kind === 'View' && !types.isDataView(o)) return viewExtraKeys(o as Uint8Array);
  const keys = Reflect.ownKeys(o);
  if (keys.length === 0) return keys;
  return keys.filter((k) => {
    if (typeof k === 'symbol') return true;
    if (b.kind === 'RegExp' && k === 'lastIndex') return false;
    if (b.kind === 'View' && !types.isDataView(o) && isArrayIndex(k)) return false;
    if (b.kind === 'Boxed' && typeof (o as { valueOf(): unknown }).valueOf() === 'string' && (k === 'length' || isArrayIndex(k))) return false;
    return true;
  });
}

/**
 * A typed array lists every element index among its own keys: its named properties are found once
 * per large view (cached), so that a megabyte Buffer does not cost a million keys at every capture.
 */
const bigViewKeys = new WeakMap<object, Array<string | symbol>>();
function viewExtraKeys(v: Uint8Array): Array<string | symbol> {
  const cached = bigViewKeys.get(v);
  if (cached) return cached;
  const keys = Reflect.ownKeys(v).filter((k) => typeof k === 'symbol' || !isArrayIndex(k));
  if (v.length > 4096) bigViewKeys.set(v, keys);
  return keys;
}

/** The class whose prototype `proto` is, or undefined. */
export function classOf(proto: object | null): Function | undefined {
  if (!proto) return undefined;
  const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
  return typeof ctor === 'function' && ctor.prototype === proto ? ctor : undefined;
}

const ERROR_CTORS = ['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError'].map(
  (n) => (globalThis as unknown as Record<string, ErrorConstructor>)[n],
);
/** The nearest built-in error class in a native error's prototype chain. */
export function errorBase(o: object): { name: string; prototype: object } | undefined {
  for (let p = Object.getPrototypeOf(o); p !== null; p = Object.getPrototypeOf(p)) {
    const c = ERROR_CTORS.find((e) => e.prototype === p);
    if (c) return { name: c.name, prototype: c.prototype };
  }
  return undefined;
}

const intlVerified = new WeakMap<object, unknown>();
/**
 * What rebuilds an Intl object: its resolvedOptions() (a Locale: its string). Checked once per
 * object (they are immutable) by rebuilding it here and comparing: options that do not round-trip
 * refuse the value rather than ship a formatter that formats differently.
 */
export function intlOptions(o: object, name: string): unknown {
  if (intlVerified.has(o)) return intlVerified.get(o);
  const C = (Intl as unknown as Record<string, new (...a: unknown[]) => { resolvedOptions(): Record<string, unknown>; toString(): string }>)[name];
  let opts: unknown;
  if (name === 'Locale') opts = String(o);
  else {
    const ro = Reflect.apply(C.prototype.resolvedOptions, o, []) as Record<string, unknown>;
    opts = ro;
    let again: Record<string, unknown> | undefined;
    try {
      again = new C(ro.locale, ro).resolvedOptions();
    } catch {
      again = undefined;
    }
    if (!again || JSON.stringify(again) !== JSON.stringify(ro)) {
      throw CodecErrors.UNSUPPORTED(`an Intl.${name} whose resolved options do not rebuild it`);
    }
  }
  intlVerified.set(o, opts);
  return opts;
}

/**
 * Symbols Node's by-value classes keep their own state under (EventEmitter's kCapture): each side
 * finds its own by probing a fresh instance, so they travel by name.
 */
let nodeSymbols: Map<symbol, string> | undefined;
let nodeSymbolsByName: Map<string, symbol> | undefined;
function probeNodeSymbols(): void {
  if (nodeSymbols) return;
  nodeSymbols = new Map();
  nodeSymbolsByName = new Map();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { EventEmitter } = require('node:events') as typeof import('node:events');
  for (const s of Object.getOwnPropertySymbols(new EventEmitter())) {
    if (Symbol.keyFor(s) !== undefined || !s.description) continue;
    nodeSymbols.set(s, `events:${s.description}`);
    nodeSymbolsByName.set(`events:${s.description}`, s);
  }
}
export function nodeSymbolName(s: symbol): string | undefined {
  probeNodeSymbols();
  return nodeSymbols!.get(s);
}
export function nodeSymbolByName(name: string): symbol | undefined {
  probeNodeSymbols();
  return nodeSymbolsByName!.get(name);
}
