import Module from 'node:module';
import path from 'node:path';

/**
 * Values of the worker's own packages (a Nest `NotFoundException` class, rxjs's `Observable`) as the
 * module records the server resolves to its own copies: `{ spec: '@nestjs/common/index.js', path:
 * ['NotFoundException'] }`. An instance the handler created on the worker — an exception it threw —
 * then goes back as an instance of the server's class, so the server's `instanceof` checks (Nest's
 * exception filters) see it as they would locally. Indexed from the require cache, like the
 * server's module index, and only for files under node_modules.
 */
type PackageRecord = { custom: 'module'; data: { spec: string; path: string[] } };

const index = new WeakMap<object, PackageRecord>();
const indexed = new Set<string>();

function specOf(filename: string): string | undefined {
  const marker = `${path.sep}node_modules${path.sep}`;
  const i = filename.lastIndexOf(marker);
  return i < 0 ? undefined : filename.slice(i + marker.length).split(path.sep).join('/');
}

function add(v: unknown, spec: string, at: string[], depth: number): void {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function') || index.has(v)) return;
  index.set(v, { custom: 'module', data: { spec, path: at } });
  if (depth <= 0) return;
  let keys: string[];
  try {
    keys = Object.getOwnPropertyNames(v);
  } catch {
    return;
  }
  for (const k of keys) {
    if (k === 'prototype' || k === 'constructor' || k === 'caller' || k === 'arguments') continue;
    let d: PropertyDescriptor | undefined;
    try {
      d = Object.getOwnPropertyDescriptor(v, k);
    } catch {
      continue;
    }
    if (d && 'value' in d) add(d.value, spec, [...at, k], depth - 1);
  }
}

/** Modules in the cache at the last scan that left none still loading: nothing new to index until it grows. */
let scannedSize = -1;
let lookedThisTurn = false;

function refresh(): void {
  const cache = (Module as unknown as { _cache: Record<string, { exports: unknown; filename: string; loaded?: boolean }> })._cache;
  // A miss is common (every object a handler creates is looked up once when the outcome is encoded):
  // rescanning the whole cache each time cost about a millisecond per invocation.
  // Within one synchronous pass (an outcome's encode) no module can load: look at the cache once.
  if (lookedThisTurn) return;
  lookedThisTurn = true;
  queueMicrotask(() => (lookedThisTurn = false));
  const size = Object.keys(cache).length;
  if (size === scannedSize) return;
  let pending = false;
  for (const [key, m] of Object.entries(cache)) {
    if (indexed.has(key) || !m?.filename) continue;
    const spec = specOf(m.filename);
    if (!spec) continue;
    // A module still loading has not filled its exports yet: index it next time.
    if (m.loaded === false) {
      pending = true;
      continue;
    }
    indexed.add(key);
    add(m.exports, spec, [], 2);
  }
  scannedSize = pending ? -1 : size;
}

/** Indexes the packages loaded so far (a worker's warm-up: the first outcome's encode paid 20-40 ms for it). */
export function indexPackages(): void {
  refresh();
}

/** The package record of a worker value, or undefined when it is not a package's export. */
export function packageRecordOf(o: object): PackageRecord | undefined {
  let r = index.get(o);
  if (r) return r;
  refresh();
  r = index.get(o);
  return r;
}
