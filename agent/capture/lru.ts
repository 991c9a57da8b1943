import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LRU_INLINE_ENTRIES, registerLruClass, type LruLike, type LruRecord } from '../../protocol';
import { CaptureErrors } from './errors';
import { functionLocation } from './inspector';
import { originOf } from './module-index';

/**
 * lru-cache's LRUCache travels by its public state (protocol/codec/lru.ts): recognised here by its
 * class being the `LRUCache` export of an lru-cache package of a major whose dump()/load() this was
 * written against and tested with (10, 11). Decided once per class.
 */
const verdicts = new WeakMap<Function, boolean>();
const SUPPORTED_MAJORS = new Set([10, 11]);

function isLruClass(cls: Function): boolean {
  let v = verdicts.get(cls);
  if (v === undefined) {
    v = false;
    const origin = originOf(cls);
    // By its export name: the package's default entry is minified (the class is named `u` there).
    if (origin?.custom === 'module' && origin.data.path?.at(-1) === 'LRUCache' && typeof cls.prototype?.dump === 'function' && typeof cls.prototype?.load === 'function') {
      const version = packageVersion(cls);
      if (version && SUPPORTED_MAJORS.has(Number(version.split('.')[0]))) v = true;
    }
    if (v) registerLruClass(cls);
    verdicts.set(cls, v);
  }
  return v;
}

/** The version in the package.json of lru-cache above the file that defines `cls`. */
function packageVersion(cls: Function): string | undefined {
  const url = functionLocation(cls)?.url;
  if (!url?.startsWith('file:')) return undefined;
  for (let dir = path.dirname(fileURLToPath(url)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    try {
      const pj = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pj.name === 'lru-cache') return pj.version;
      if (pj.name) return undefined; // the nearest named package is another one
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Options whose callbacks the server would run when it loads the worker's entries, or that do work of their own. */
const ACTIVE = ['dispose', 'disposeAfter', 'onInsert', 'fetchMethod', 'memoMethod'] as const;

/**
 * The record an LRUCache travels as, undefined when `o` is not one, or the refusal (thrown) when it is
 * one whose behaviour its public state does not carry.
 */
export function lruRecordOf(o: object, cls: Function | undefined, mayStay = false): LruRecord | 'remote' | undefined {
  if (!cls || !isLruClass(cls)) return undefined;
  const c = o as LruLike & Record<string, unknown>;
  // A large cache stays here, served a key at a time (unless this is its own fetch, whole).
  if (mayStay && (c.size as number) > LRU_INLINE_ENTRIES) return 'remote';
  for (const k of ACTIVE) {
    if (c[k] !== undefined) throw CaptureErrors.UNSUPPORTED(`an LRUCache with ${k}: the server would run it when it applies the worker's entries`);
  }
  if (c.ttlAutopurge) throw CaptureErrors.UNSUPPORTED('an LRUCache with ttlAutopurge (its purge timers run on the server)');
  if ('perf' in c && c.perf !== globalThis.performance) throw CaptureErrors.UNSUPPORTED('an LRUCache with its own perf clock');
  const props: Record<string, unknown> = {};
  const options: Record<string, unknown> = { max: c.max, maxSize: c.maxSize };
  for (const k of Reflect.ownKeys(c)) {
    const d = Object.getOwnPropertyDescriptor(c, k)!;
    // The class's own [Symbol.toStringTag] field, which the copy's constructor sets too.
    if (k === Symbol.toStringTag && d.value === 'LRUCache') continue;
    if (typeof k === 'symbol' || !('value' in d) || !d.enumerable || !d.writable) throw CaptureErrors.UNSUPPORTED(`an LRUCache with the property ${String(k)} of its own, which its options do not rebuild`);
    // getRemainingTTL is the constructor's own closure over the cache's clocks: the copy makes its own.
    if (k === 'getRemainingTTL') continue;
    if (typeof d.value === 'function' && k !== 'sizeCalculation') throw CaptureErrors.UNSUPPORTED(`an LRUCache with the function property '${k}'`);
    props[k] = d.value;
    options[k] = d.value;
  }
  return { cls, options, props, entries: c.dump() };
}
