import Module from 'node:module';
import path from 'node:path';
import { functionInfo } from './capture/function-record';
import { originOf, packageSpec } from './capture/module-index';
import { exemptNestLoggers } from './offload';
import { isPgClient } from '../proxy';
import { addWorkerPreload } from './worker-preload';

/**
 * Pays the one-time costs of offloading a Nest controller before its first request: the capture's
 * analysis of the controller class, its methods and the classes Nest injects into it (parsing their
 * files, reading their scopes — 100-300 ms on a first request otherwise), done in the background
 * after Nest registers the controller; and it asks workers to load @nestjs/common and rxjs when they
 * start (offload-worker/preload.ts) instead of on the first offload that reaches them.
 */
const queue: Function[] = [];
const done = new WeakSet<Function>();
let scheduled = false;

type ReflectMeta = typeof Reflect & { getMetadata(k: unknown, target: object): unknown };

export function warmNestController(cls: Function): void {
  preloadForWorkers();
  exemptNestLoggers();
  // The capture asks of every value whether it is a pg client, which loads pg the first time:
  // measured at 157 ms of the first offload's capture on a loaded 2-core machine. Done here first.
  if (queue.length === 0 && !pgWarmed) queue.push(warmPg);
  enqueue(cls, 2);
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain).unref();
  }
}

function enqueue(cls: Function, depth: number): void {
  if (done.has(cls)) return;
  done.add(cls);
  queue.push(cls);
  for (let p = cls.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      const d = Object.getOwnPropertyDescriptor(p, k);
      for (const f of [d?.value, d?.get, d?.set]) {
        if (typeof f !== 'function' || k === 'constructor') continue;
        // The agent's own route wrapper stands for the method it wraps.
        const entry = (f as unknown as Record<symbol, { fn?: Function } | undefined>)[Symbol.for('beehive.wrapped')];
        queue.push(entry?.fn ?? f);
        // The classes of its arguments (DTOs the pipes build): captured with the arguments.
        const R = Reflect as ReflectMeta & { getMetadata(k: unknown, target: object, prop?: string): unknown };
        const types = typeof R.getMetadata === 'function' ? R.getMetadata('design:paramtypes', p, k) : undefined;
        if (Array.isArray(types)) for (const t of types) if (typeof t === 'function' && !isLibrary(t) && !done.has(t)) enqueue(t, 0);
      }
    }
  }
  if (depth <= 0) return;
  const R = Reflect as ReflectMeta;
  const deps = typeof R.getMetadata === 'function' ? R.getMetadata('design:paramtypes', cls) : undefined;
  if (Array.isArray(deps)) for (const d of deps) if (typeof d === 'function' && !isLibrary(d)) enqueue(d, depth - 1);
}

/** One function per turn of the event loop: requests are never held up by the warm-up. */
function drain(): void {
  const fn = queue.shift();
  if (!fn) {
    scheduled = false;
    // The index of package values, rebuilt after the app loaded Nest and its own modules.
    originOf({});
    return;
  }
  try {
    if (fn === warmPg) warmPg();
    else functionInfo(fn);
  } catch {
    /* refused functions are refused again, with their reason, when a request captures them */
  }
  setImmediate(drain).unref();
}

let pgWarmed = false;
function warmPg(): void {
  pgWarmed = true;
  isPgClient({});
}

let library: WeakSet<object> | undefined;
/**
 * Built-ins and exports of packages (Nest's Reflector, ModuleRef): they travel as module records and
 * are never analysed.
 */
function isLibrary(fn: Function): boolean {
  if (/\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(fn))) return true;
  if (!library) {
    library = new WeakSet();
    const marker = `${path.sep}node_modules${path.sep}`;
    for (const m of Object.values((Module as unknown as { _cache: Record<string, { exports: unknown; filename: string }> })._cache)) {
      if (!m?.filename?.includes(marker) || !m.exports || (typeof m.exports !== 'object' && typeof m.exports !== 'function')) continue;
      library.add(m.exports as object);
      for (const k of Object.keys(m.exports as object)) {
        const v = (m.exports as Record<string, unknown>)[k];
        if (typeof v === 'function') library.add(v);
      }
    }
  }
  return library.has(fn);
}

let preloadSet = false;
function preloadForWorkers(): void {
  if (preloadSet) return;
  preloadSet = true;
  const cache = (Module as unknown as { _cache: Record<string, { filename: string }> })._cache;
  const specs = new Set<string>();
  for (const m of Object.values(cache)) {
    const spec = packageSpec(m?.filename ?? '');
    if (spec && (spec === '@nestjs/common/index.js' || /^rxjs\/dist\/cjs\/index\.js$/.test(spec))) specs.add(spec);
  }
  if (!specs.size) specs.add('@nestjs/common/index.js');
  // Inherited by the local workers the agent forks from now on.
  addWorkerPreload(specs);
}
