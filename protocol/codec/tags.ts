/** One byte before every value in the closure codec's stream. */
export const enum Tag {
  Undefined = 0x00,
  Null = 0x01,
  True = 0x02,
  False = 0x03,
  /** zigzag varint, for safe integers that are not -0 */
  Int = 0x04,
  /** float64 LE: NaN, ±Infinity, -0, fractions, big numbers */
  Float = 0x05,
  String = 0x06,
  BigInt = 0x07,
  /** varint index of an object already in the stream: shared references and cycles */
  Backref = 0x08,
  /** Symbol.for(key) */
  Symbol = 0x09,
  /** {ref, kind}: an object left on the other side */
  Ref = 0x0a,
  Object = 0x10,
  Array = 0x11,
  Date = 0x12,
  RegExp = 0x13,
  Map = 0x14,
  Set = 0x15,
  Error = 0x16,
  Url = 0x17,
  ArrayBuffer = 0x18,
  TypedArray = 0x19,
  /** instance of a class: class value, own properties, private fields */
  Instance = 0x1a,
  /** function as a code record */
  Function = 0x1b,
  /** a value a hook replaced by a (tag, data) record, e.g. a module specifier */
  Custom = 0x1c,
  Boxed = 0x1d,
  UrlSearchParams = 0x1e,
  /** a built-in with extra state: inner value, class (or null), own properties — `class Tally extends Map` */
  Sub = 0x1f,
  /** a view onto an ArrayBuffer that other values share: kind, buffer (a value), byteOffset, length */
  View = 0x20,
  /** Intl.* object: constructor name, resolvedOptions() as a value */
  Intl = 0x21,
  /** a well-known symbol (Symbol.iterator): its name */
  WellKnownSymbol = 0x22,
  /** a symbol neither registered nor well-known, by the identity the hooks give it: id, description */
  UniqueSymbol = 0x23,
  /** a value decoded first for its identity, then the value proper: a buffer before the view onto it */
  Before = 0x24,
}

/** Property flags in an object's property list. */
export const enum PropFlag {
  Accessor = 1,
  NonEnumerable = 2,
  NonWritable = 4,
  NonConfigurable = 8,
  /** the key is a symbol, encoded as a value (registered, well-known or unique) */
  SymbolKey = 16,
}

/** Object-level integrity, as in Object.freeze / seal / preventExtensions. */
export const enum Integrity {
  None = 0,
  NonExtensible = 1,
  Sealed = 2,
  Frozen = 3,
}

export const TYPED_ARRAY_KINDS = [
  'Uint8Array', 'Int8Array', 'Uint8ClampedArray', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'DataView', 'Buffer',
] as const;

export const ERROR_KINDS = ['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError'] as const;

/** What a remote reference stands for, so the other side can build a Proxy of the right shape. */
export type RefKind = 'object' | 'array' | 'map' | 'set' | 'function' | 'class' | 'instance' | 'date' | 'other' | 'weakmap' | 'weakset' | 'promise' | 'lru';

export const REF_KINDS: readonly RefKind[] = ['object', 'array', 'map', 'set', 'function', 'class', 'instance', 'date', 'other', 'weakmap', 'weakset', 'promise', 'lru'];

export const CODEC_MAGIC = 0xbe;
export const CODEC_VERSION = 2;

export const INTL_KINDS = ['Collator', 'DateTimeFormat', 'DisplayNames', 'ListFormat', 'Locale', 'NumberFormat', 'PluralRules', 'RelativeTimeFormat', 'Segmenter'] as const;

/** Well-known symbols by name: `Symbol.iterator` travels as 'iterator'. */
export const WELL_KNOWN_SYMBOLS: ReadonlyMap<symbol, string> = new Map(
  Object.getOwnPropertyNames(Symbol).filter((k) => typeof (Symbol as unknown as Record<string, unknown>)[k] === 'symbol').map((k) => [(Symbol as unknown as Record<string, symbol>)[k], k]),
);
