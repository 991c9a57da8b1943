import Module from 'node:module';
import path from 'node:path';

/**
 * Where a function made by a package on the worker comes from (an error class of `http-errors`
 * that Express's `res.format` throws): a package path and member path, as the server's own capture
 * names such values. The server resolves it against the packages it has loaded itself.
 */
export type WorkerOrigin = { custom: 'module'; data: { spec: string; path?: string[] } };

const origins = new WeakMap<object, WorkerOrigin>();
const indexed = new Set<string>();

function add(v: unknown, origin: WorkerOrigin, depth: number): void {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function') || origins.has(v)) return;
  origins.set(v, origin);
  if (depth <= 0) return;
  for (const k of Object.getOwnPropertyNames(v)) {
    if (k === 'prototype' || k === 'constructor' || k === 'caller' || k === 'arguments') continue;
    const d = Object.getOwnPropertyDescriptor(v, k);
    if (!d || !('value' in d)) continue;
    add(d.value, { custom: 'module', data: { spec: origin.data.spec, path: [...(origin.data.path ?? []), k] } }, depth - 1);
  }
}

/** The package member `fn` is, if it is one (indexes newly loaded modules on the way). */
export function workerOriginOf(fn: Function): WorkerOrigin | undefined {
  const hit = origins.get(fn);
  if (hit) return hit;
  const cache = (Module as unknown as { _cache: Record<string, { exports: unknown; filename: string }> })._cache;
  const marker = `${path.sep}node_modules${path.sep}`;
  for (const [file, m] of Object.entries(cache)) {
    if (indexed.has(file)) continue;
    indexed.add(file);
    const i = file.lastIndexOf(marker);
    if (i < 0) continue;
    add(m.exports, { custom: 'module', data: { spec: file.slice(i + marker.length).split(path.sep).join('/') } }, 2);
  }
  return origins.get(fn);
}
