import { createHash } from 'node:crypto';
import { types } from 'node:util';
import { extraKeys, isLruCache, lruPicture, sameLruPicture, type LruPicture } from '../../protocol';

/**
 * A shallow picture of an object's own state, as far as a worker's copy of it could show: its
 * prototype, extensibility, built-in state (Map entries, Set values, a Date's time, a buffer's bytes,
 * a URL) and every own property with its attributes and value (or accessors). Values are kept by
 * identity, so a child object that was replaced shows here while one that changed inside shows in
 * its own picture. Two pictures are compared element by element with Object.is.
 */
export type Fingerprint = unknown[];

const HOLE = Symbol('hole');
/** Buffers up to this size are kept as bytes; larger ones as a digest (a copy would cost as much as the data). */
const INLINE_BYTES = 256;

export function fingerprint(o: object): Fingerprint {
  const fp: unknown[] = [Object.getPrototypeOf(o), Object.isExtensible(o)];
  let keys: Array<string | symbol> | undefined;
  if (isLruCache(o)) {
    fp.push(new CachePicture(lruPicture(o)));
  } else if (ArrayBuffer.isView(o)) {
    fp.push(bytes(o.buffer, o.byteOffset, o.byteLength));
    keys = extraKeys(o, { kind: 'View' });
  } else if (types.isAnyArrayBuffer(o)) {
    fp.push(bytes(o, 0, o.byteLength));
  } else if (types.isMap(o)) {
    fp.push(o.size);
    for (const [k, v] of o) fp.push(k, v);
  } else if (types.isSet(o)) {
    fp.push(o.size);
    for (const v of o) fp.push(v);
  } else if (types.isDate(o)) {
    fp.push(o.getTime());
  } else if (o instanceof URL || o instanceof URLSearchParams) {
    fp.push(String(o));
  } else if (Array.isArray(o) && Object.getPrototypeOf(o) === Array.prototype) {
    // The common large case: a dense array is its length and elements (no descriptor per index).
    const all = Reflect.ownKeys(o);
    if (all.length === o.length + 1) {
      fp.push(o.length);
      for (let i = 0; i < o.length; i++) {
        const d = Object.getOwnPropertyDescriptor(o, i);
        if (!d || !('value' in d) || !d.writable || !d.enumerable || !d.configurable) {
          fp.length = 2;
          return described(o, fp, all);
        }
        fp.push(d.value);
      }
      return fp;
    }
    keys = all;
  }
  return described(o, fp, keys ?? Reflect.ownKeys(o));
}

function described(o: object, fp: unknown[], keys: Array<string | symbol>): Fingerprint {
  fp.push(keys.length);
  for (const k of keys) {
    const d = Object.getOwnPropertyDescriptor(o, k);
    if (!d) {
      fp.push(k, HOLE);
      continue;
    }
    const flags = (d.enumerable ? 1 : 0) | (d.configurable ? 2 : 0) | (d.writable ? 4 : 0) | ('value' in d ? 8 : 0);
    fp.push(k, flags, 'value' in d ? d.value : d.get, d.set);
  }
  return fp;
}

function bytes(buf: ArrayBufferLike, offset: number, length: number): string {
  const view = Buffer.from(buf, offset, length);
  if (length <= INLINE_BYTES) return view.toString('latin1');
  return `${length}:${createHash('sha256').update(view).digest('base64')}`;
}

export function samePrint(a: Fingerprint, b: Fingerprint): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i])) continue;
    if (a[i] instanceof CachePicture && b[i] instanceof CachePicture && sameLruPicture((a[i] as CachePicture).p, (b[i] as CachePicture).p)) continue;
    return false;
  }
  return true;
}

/** An LRUCache's entries, its state beside its own properties (start times on the monotonic clock, to 2 ms). */
class CachePicture {
  constructor(readonly p: LruPicture) {}
}
