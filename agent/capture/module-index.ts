import Module from 'node:module';
import path from 'node:path';
import { notePackageLoad, presentAtLoad, standInOf } from './package-state';
import { functionLocation } from './inspector';

/**
 * Where a value comes from when it is not the app's own: a global built-in (`Math.max`), a Node
 * built-in module or one of its members (`crypto.createHash`), or a package in node_modules. Such
 * values travel as specifiers and are re-required on the worker (DESIGN.md §4), never as code.
 */
export type Origin =
  | { custom: 'global'; data: string[] }
  | { custom: 'module'; data: { spec: string; path?: string[] } }
  | { custom: 'global-accessor'; data: [string, 'get' | 'set'] };

const origins = new WeakMap<object, Origin>();
let modulesChanged = true;

/** Called by the loader hook on every module load: the package index is rebuilt lazily; package state is recorded. */
export function markModulesChanged(m?: { filename: string; exports: unknown }): void {
  modulesChanged = true;
  if (m) notePackageLoad(m.filename, m.exports);
}

/**
 * Indexes built-ins and the packages loaded so far, now: at the agent's warm-up, after the app's
 * start-up code (~200 ms the first capture would otherwise pay). Packages loaded later are indexed
 * by the next capture. (Not on a timer after loads go quiet: that lands in the middle of the first
 * burst of requests, blocking them instead.)
 */
export function indexNow(): void {
  if (!builtinsIndexed) indexBuiltins();
  indexPackages();
}
let builtinsIndexed = false;
/** Globals that exist before the app runs (this module loads with the agent): Node's, which a worker has too. */
const NODE_GLOBALS = new Set(Object.getOwnPropertyNames(globalThis));

const BUILTIN_MODULES = [
  'fs', 'fs/promises', 'path', 'crypto', 'os', 'util', 'url', 'querystring', 'events', 'stream', 'zlib', 'http', 'https',
  'net', 'dns', 'child_process', 'buffer', 'string_decoder', 'timers', 'timers/promises', 'assert', 'perf_hooks',
  'worker_threads', 'async_hooks', 'readline', 'v8', 'vm',
];

type PathOrigin = Exclude<Origin, { custom: 'global-accessor' }>;

function add(v: unknown, origin: PathOrigin, depth: number): void {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return;
  if (origins.has(v)) return;
  if (origin.custom === 'module' && origin.data.path?.length && !origin.data.spec.startsWith('node:') && presentAtLoad(v) === false && !packageCode(v)) {
    // The app's own value stored into a package by a configuration (Handlebars.registerHelper's
    // helper, numeral's locale object): it travels as the app's, not as a member of the package —
    // the configuration log that put it there carries it.
    return;
  }
  origins.set(v, origin);
  if (depth <= 0) return;
  let keys: string[];
  try {
    keys = Object.getOwnPropertyNames(v);
  } catch {
    return;
  }
  // Methods on an exported class's prototype travel as members too (EventEmitter.prototype.emit).
  if (typeof v === 'function' && v.prototype && typeof v.prototype === 'object') {
    const protoOrigin: PathOrigin = origin.custom === 'global' ? { custom: 'global', data: [...origin.data, 'prototype'] } : { custom: 'module', data: { spec: origin.data.spec, path: [...(origin.data.path ?? []), 'prototype'] } };
    if (!origins.has(v.prototype)) add(v.prototype, protoOrigin, 1);
    // A class reachable only as an exported prototype's constructor (dayjs's Dayjs behind `dayjs.prototype`).
    const ctor = Object.getOwnPropertyDescriptor(v.prototype, 'constructor')?.value;
    if (typeof ctor === 'function' && ctor !== v && ctor.prototype === v.prototype && !origins.has(ctor) && protoOrigin.custom === 'module') {
      origins.set(ctor, { custom: 'module', data: { spec: protoOrigin.data.spec, path: [...(protoOrigin.data.path ?? []), 'constructor'] } });
    }
  }
  for (const k of keys) {
    if (k === 'prototype' || k === 'constructor' || k === 'caller' || k === 'arguments') continue;
    let child: unknown;
    try {
      const d = Object.getOwnPropertyDescriptor(v, k);
      if (!d || !('value' in d)) continue;
      child = d.value;
    } catch {
      continue;
    }
    const o: PathOrigin = origin.custom === 'global' ? { custom: 'global', data: [...origin.data, k] } : { custom: 'module', data: { spec: origin.data.spec, path: [...(origin.data.path ?? []), k] } };
    add(child, o, depth - 1);
  }
}

/** Whether a function added to a package after it loaded is the package's own code (a plugin's method). */
const codeVerdicts = new WeakMap<object, boolean>();
function packageCode(v: object): boolean {
  if (typeof v !== 'function') return false;
  let known = codeVerdicts.get(v);
  if (known === undefined) {
    try {
      known = (functionLocation(v)?.url ?? '').includes('/node_modules/');
    } catch {
      known = false;
    }
    codeVerdicts.set(v, known);
  }
  return known;
}

function indexGlobals(): void {
  for (const name of ['Math', 'JSON', 'Reflect', 'Object', 'Array', 'Number', 'String', 'Promise', 'Date', 'Symbol', 'Intl', 'Atomics', 'BigInt', 'Error', 'RegExp', 'Map', 'Set', 'WeakMap', 'WeakSet', 'URL', 'URLSearchParams', 'Buffer', 'TextEncoder', 'TextDecoder', 'structuredClone', 'parseInt', 'parseFloat', 'encodeURIComponent', 'decodeURIComponent', 'encodeURI', 'decodeURI', 'isNaN', 'isFinite', 'queueMicrotask', 'setTimeout', 'setImmediate', 'clearTimeout', 'fetch', 'console']) {
    const v = (globalThis as Record<string, unknown>)[name];
    add(v, { custom: 'global', data: [name] }, 1);
  }
  // The global object itself (lodash's runInContext keeps it): the worker's own.
  origins.set(globalThis, { custom: 'global', data: [] });
  // Every other built-in global (Function, Uint8Array, WeakMap...): travels by name, never as code.
  for (const name of Object.getOwnPropertyNames(globalThis)) {
    if (name === 'globalThis' || name === 'global' || name.startsWith('__')) continue;
    const d = Object.getOwnPropertyDescriptor(globalThis, name);
    // A lazily defined global (performance, crypto, navigator): its accessor functions by name.
    if (d && !('value' in d)) {
      for (const acc of ['get', 'set'] as const) if (typeof d[acc] === 'function' && !origins.has(d[acc]!)) origins.set(d[acc]!, { custom: 'global-accessor', data: [name, acc] });
    }
    let v = d && 'value' in d ? d.value : undefined;
    if (d && !('value' in d) && NODE_GLOBALS.has(name)) {
      try {
        v = (globalThis as Record<string, unknown>)[name];
      } catch {
        v = undefined;
      }
    }
    if ((typeof v === 'function' && NODE_GLOBALS.has(name)) || name === 'Intl' || name === 'WebAssembly') {
      add(v, { custom: 'global', data: [name] }, 1);
    }
  }
  for (const [name, proto] of [['Array', Array.prototype], ['Object', Object.prototype], ['String', String.prototype], ['Function', Function.prototype]] as const) {
    add(proto, { custom: 'global', data: [name, 'prototype'] }, 1);
  }
}

function indexBuiltins(): void {
  builtinsIndexed = true;
  indexGlobals();
  for (const name of BUILTIN_MODULES) {
    try {
      add(require(`node:${name}`), { custom: 'module', data: { spec: `node:${name}` } }, 1);
    } catch {
      /* not in this Node version */
    }
  }
}

/** A package-relative path that the worker can resolve in its own node_modules. */
export function packageSpec(filename: string): string | undefined {
  const i = filename.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  if (i < 0) return undefined;
  return filename.slice(i + '/node_modules/'.length).split(path.sep).join('/');
}

function indexPackages(): void {
  if (!modulesChanged) return;
  modulesChanged = false;
  const cache = (Module as unknown as { _cache: Record<string, { exports: unknown; filename: string }> })._cache;
  for (const k of Object.keys(cache)) {
    const m = cache[k];
    const spec = packageSpec(m.filename);
    if (spec) add(m.exports, { custom: 'module', data: { spec } }, 2);
  }
}

let selfExports: unknown;
/** The `beehive` facade itself travels as a module: on the worker, `beehive.lock` talks to the channel. */
export function registerSelf(exportsObj: unknown): void {
  selfExports = exportsObj;
  add(exportsObj, { custom: 'module', data: { spec: 'beehive' } }, 1);
}

export function originOf(v: object): Origin | undefined {
  if (!builtinsIndexed) indexBuiltins();
  let o = origins.get(v);
  if (o) return o;
  indexPackages();
  o = origins.get(v);
  if (!o && typeof v === 'function') {
    // A package function whose recording stand-in stood where the index found it (package-state.ts).
    const stand = standInOf(v);
    o = stand && origins.get(stand);
    if (o) origins.set(v, o);
  }
  void selfExports;
  return o;
}
