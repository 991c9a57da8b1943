import { types } from 'node:util';
import type { EncodeHooks, Replacement } from './hooks';
import { builtinKind, extraKeys, functionOwnKeys, isPlainProto, ownKeys, refusalOf } from './classify';

/**
 * Decides which objects go inline under a byte budget. Breadth-first, so that a large first branch
 * cannot starve its siblings: the objects nearest the roots are shipped, what lies beyond the budget
 * becomes remote references fetched on first touch (paper §3.1's closure with fallback).
 */
export function planInline(
  root: unknown,
  hooks: EncodeHooks,
  replaced: Map<object, Replacement | undefined>,
): { inline: Set<object>; outside: Set<object>; sharedBuffers: Set<ArrayBuffer>; paramsOwner: Map<object, URL> } {
  const budget = hooks.budget ?? Infinity;
  const maxDepth = hooks.maxDepth ?? 1000;
  const inline = new Set<object>();
  const outside = new Set<object>();
  let used = 0;
  // A custom record's data (a module specifier, a pack record) is part of the record: always inline,
  // two levels deep ({ spec, path: [...] }).
  const scaffold = new Map<object, number>();
  let queue: unknown[] = [root];
  for (let depth = 0; queue.length > 0; depth++) {
    const next: unknown[] = [];
    for (const v of queue) {
      if (v === null || (typeof v !== 'object' && typeof v !== 'function')) continue;
      const o = v as object;
      if (inline.has(o) || outside.has(o)) continue;
      const rep = replacementOf(o, hooks, replaced);
      if (rep && 'ref' in rep) continue;
      // What the encoder refuses is not planned: it will throw there, naming the kind.
      if (!rep && refusalOf(o)) continue;
      const forced = scaffold.has(o) || (hooks.mustInline?.(o) ?? false);
      const isCode = typeof o === 'function' || (rep !== undefined && 'custom' in rep);
      const size = estimate(o);
      // Roots, code and refined objects always go; the rest while the budget lasts.
      if (depth > 0 && !isCode && !forced && (used + size > budget || depth > maxDepth)) {
        outside.add(o);
        continue;
      }
      used += size;
      inline.add(o);
      if (rep && 'custom' in rep && rep.data !== null && typeof rep.data === 'object') scaffold.set(rep.data, 2);
      const level = scaffold.get(o);
      if (level !== undefined && level > 1 && (Array.isArray(o) || isPlainProto(Object.getPrototypeOf(o)))) {
        for (const v of Object.values(o)) if (v !== null && typeof v === 'object' && !scaffold.has(v)) scaffold.set(v, level - 1);
      }
      pushChildren(o, rep, hooks, next);
    }
    queue = next;
  }
  return { inline, outside, ...links(inline, outside) };
}

/**
 * Buffers that views share (overlapping ranges, or the buffer itself reached too) travel once, with
 * identity, so that a write through one view is seen through the others; a URL's searchParams stays
 * linked to its URL. Views that share nothing travel as their own bytes: a small Buffer's 8 KB pool
 * is not shipped.
 */
function links(inline: Set<object>, outside: Set<object>): { sharedBuffers: Set<ArrayBuffer>; paramsOwner: Map<object, URL> } {
  const byBuffer = new Map<ArrayBuffer, Array<[number, number]>>();
  const paramsOwner = new Map<object, URL>();
  for (const o of inline) {
    if (ArrayBuffer.isView(o)) {
      const ranges = byBuffer.get(o.buffer as ArrayBuffer) ?? [];
      ranges.push([o.byteOffset, o.byteOffset + o.byteLength]);
      byBuffer.set(o.buffer as ArrayBuffer, ranges);
    } else if (o instanceof URL) {
      try {
        paramsOwner.set(o.searchParams, o);
      } catch {
        /* not a real URL: the encoder refuses it */
      }
    }
  }
  const sharedBuffers = new Set<ArrayBuffer>();
  for (const [buf, ranges] of byBuffer) {
    let shared = inline.has(buf) || outside.has(buf);
    if (!shared && ranges.length > 1) {
      ranges.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < ranges.length && !shared; i++) shared = ranges[i][0] < ranges[i - 1][1];
    }
    if (shared) {
      sharedBuffers.add(buf);
      outside.delete(buf);
      inline.add(buf);
    }
  }
  return { sharedBuffers, paramsOwner };
}

export function replacementOf(o: object, hooks: EncodeHooks, replaced: Map<object, Replacement | undefined>, unplanned = false): Replacement | undefined {
  if (replaced.has(o)) return replaced.get(o);
  const rep = hooks.replace?.(o, unplanned);
  replaced.set(o, rep);
  return rep;
}

function estimate(o: object): number {
  if (types.isMap(o) || types.isSet(o)) return 16 + o.size * 16;
  if (ArrayBuffer.isView(o)) return 16 + o.byteLength;
  if (types.isArrayBuffer(o)) return 16 + o.byteLength;
  if (Array.isArray(o)) return 16 + o.length * 8;
  let n = 16;
  for (const k of Object.keys(o)) {
    n += k.length + 8;
    // Descriptors only: planning must not run a getter (the app's code, or a native one that throws).
    const v = Object.getOwnPropertyDescriptor(o, k)?.value;
    if (typeof v === 'string') n += v.length;
  }
  return n;
}

function pushChildren(o: object, rep: Replacement | undefined, hooks: EncodeHooks, out: unknown[]): void {
  if (rep) {
    if ('custom' in rep) out.push(rep.data);
    else if ('fn' in rep) out.push(rep.fn.pre, rep.fn.data);
    if ('fn' in rep && typeof o === 'function') for (const k of functionOwnKeys(o)) pushProp(o, k, out);
    return;
  }
  const b = builtinKind(o);
  if (b) {
    if (types.isMap(o)) for (const [k, v] of o) out.push(k, v);
    else if (types.isSet(o)) for (const v of o) out.push(v);
    const proto = Object.getPrototypeOf(o);
    if (proto !== b.proto && proto && typeof proto.constructor === 'function') out.push(proto.constructor);
    for (const k of extraKeys(o, b)) pushProp(o, k, out);
    return;
  }
  const proto = Object.getPrototypeOf(o);
  if (proto && proto !== Object.prototype && proto !== Array.prototype && typeof proto.constructor === 'function') out.push(proto.constructor);
  for (const k of ownKeys(o)) pushProp(o, k, out);
  const priv = hooks.privates?.(o);
  if (priv) for (const [, v] of priv) out.push(v);
}

function pushProp(o: object, k: string | symbol, out: unknown[]): void {
  const d = Object.getOwnPropertyDescriptor(o, k);
  if (!d) return;
  if ('value' in d) out.push(d.value);
  else out.push(d.get, d.set);
}
