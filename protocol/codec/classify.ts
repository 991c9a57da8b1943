import { types } from 'node:util';
import type { RefKind } from './tags';

/** Built-in prototypes whose instances the codec carries as plain data. */
export function isPlainProto(proto: unknown): boolean {
  return proto === Object.prototype || proto === null;
}

export function typedArrayKind(v: object): string | undefined {
  if (Buffer.isBuffer(v)) return 'Buffer';
  if (types.isDataView(v)) return 'DataView';
  if (types.isTypedArray(v)) return (v as { constructor: { name: string } }).constructor.name;
  return undefined;
}

/** The Proxy shape a remote reference to `v` needs on the other side. */
export function refKindOf(v: object): RefKind {
  if (typeof v === 'function') return /^class[\s{]/.test(Function.prototype.toString.call(v)) ? 'class' : 'function';
  if (Array.isArray(v)) return 'array';
  if (types.isMap(v)) return 'map';
  if (types.isSet(v)) return 'set';
  if (types.isDate(v)) return 'date';
  const proto = Object.getPrototypeOf(v);
  if (isPlainProto(proto)) return 'object';
  if (proto && typeof proto.constructor === 'function' && proto.constructor.prototype === proto) return 'instance';
  return 'other';
}

/** Own properties worth carrying: string keys and registered-symbol keys. */
export function ownKeys(v: object): Array<string | symbol> {
  return Reflect.ownKeys(v).filter((k) => typeof k === 'string' || Symbol.keyFor(k) !== undefined);
}

const FN_SKIP = new Set(['length', 'name', 'prototype', 'caller', 'arguments']);
/** A function's own properties other than the ones every function has (class statics, `fn.cache`). */
export function functionOwnKeys(fn: Function): Array<string | symbol> {
  return ownKeys(fn).filter((k) => !(typeof k === 'string' && FN_SKIP.has(k)));
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

/** Objects the codec carries by its built-in rules (not as class instances). */
export function isCodecBuiltin(v: object): boolean {
  return (
    Array.isArray(v) || types.isDate(v) || types.isRegExp(v) || types.isMap(v) || types.isSet(v) || ArrayBuffer.isView(v) ||
    types.isAnyArrayBuffer(v) || types.isBoxedPrimitive(v) || types.isNativeError(v) || v instanceof URL || v instanceof URLSearchParams
  );
}
