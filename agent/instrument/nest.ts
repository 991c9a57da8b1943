import { setNestMethod } from '../offload';
import { warmNestController } from '../nest-warm';
import { HandlerEntry, type Registry } from '../registry';

const kWrapped = Symbol.for('beehive.wrapped');
const kPatchedReflect = Symbol.for('beehive.nest.reflect');
/** Marks Nest's own route proxies (Nest copies a method's metadata onto the proxy it registers). */
export const NEST_CANDIDATE_KEY = 'beehive:candidate';

// Nest's metadata keys (stable across Nest 8-12) and RequestMethod values.
const CONTROLLER_WATERMARK = '__controller__';
const PATH = 'path';
const METHOD = 'method';
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'ALL', 'OPTIONS', 'HEAD', 'SEARCH', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK'];

type ReflectMeta = typeof Reflect & {
  defineMetadata(k: unknown, v: unknown, target: object, prop?: string | symbol): void;
  getMetadata(k: unknown, target: object, prop?: string | symbol): unknown;
  getMetadataKeys(target: object, prop?: string | symbol): unknown[];
};

export interface NestHooks {
  registry: Registry;
  register(entry: HandlerEntry): HandlerEntry;
  /** Runs a controller method locally or offloaded; resolves like the method would. */
  call(entry: HandlerEntry, self: unknown, args: unknown[]): unknown;
}

/** Whether an Express handler is a route proxy Nest built around a controller method. */
export function isNestProxy(fn: Function): boolean {
  const R = Reflect as ReflectMeta;
  return typeof R.getMetadata === 'function' && R.getMetadata(NEST_CANDIDATE_KEY, fn) === true;
}

/**
 * NestJS (DESIGN.md §3 step 1): candidates are controller methods, found through Nest's route
 * metadata the moment `@Controller()` marks a class (its methods' `@Get()`... metadata is already
 * there). Each route method on the prototype is replaced by a wrapper carrying the same metadata, so
 * Nest registers the wrapper: guards, pipes, interceptors and filters still run on the server around
 * it, and the method runs — here or on a worker — with the controller instance (and its injected
 * services) as `this` and the arguments the pipes produced. Works for Nest's CommonJS and ESM builds,
 * since it hooks `Reflect.defineMetadata` (reflect-metadata) rather than Nest's modules.
 */
const wrapped = new WeakSet<object>();

export function instrumentNest(hooks: NestHooks): boolean {
  const R = Reflect as ReflectMeta & Record<symbol, unknown>;
  if (typeof R.defineMetadata !== 'function' || R[kPatchedReflect]) return false;
  const orig = R.defineMetadata;
  R[kPatchedReflect] = true;
  R.defineMetadata = function defineMetadata(key: unknown, value: unknown, target: object, prop?: string | symbol) {
    orig.call(this, key, value, target, prop);
    // @Controller() sets the watermark and the class path one after the other, in either order.
    if ((key === CONTROLLER_WATERMARK || key === PATH) && typeof target === 'function' && prop === undefined && !wrapped.has(target)) {
      if (R.getMetadata(CONTROLLER_WATERMARK, target) === true && R.getMetadata(PATH, target) !== undefined) {
        wrapped.add(target);
        try {
          wrapController(target as Function & { prototype: Record<string, unknown> }, hooks, R);
          warmNestController(target as Function);
        } catch {
          /* instrumentation must never break the app's startup */
        }
      }
    }
  };
  return true;
}

/**
 * The route methods Nest will see on a controller: its own and those it inherits from base classes
 * (an undecorated `CrudController` declaring `@Get() list()`), the most derived first, as Nest's
 * metadata scanner walks them. Each with the prototype that defines it and how far up that is.
 */
function routeMethods(cls: Function & { prototype: Record<string, unknown> }): Array<{ name: string; d: PropertyDescriptor; depth: number }> {
  const out: Array<{ name: string; d: PropertyDescriptor; depth: number }> = [];
  const seen = new Set<string>();
  let depth = 0;
  for (let p: object | null = cls.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p), depth++) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name === 'constructor' || seen.has(name)) continue;
      seen.add(name);
      const d = Object.getOwnPropertyDescriptor(p, name);
      if (d) out.push({ name, d, depth });
    }
  }
  return out;
}

function wrapController(cls: Function & { prototype: Record<string, unknown> }, hooks: NestHooks, R: ReflectMeta): void {
  const base = toPaths(R.getMetadata(PATH, cls))[0] ?? '';
  for (const { name, d, depth } of routeMethods(cls)) {
    const fn = d.value;
    if (typeof fn !== 'function' || (fn as Record<symbol, unknown>)[kWrapped]) continue;
    const method = R.getMetadata(METHOD, fn);
    const paths = toPaths(R.getMetadata(PATH, fn));
    if (method === undefined || paths.length === 0) continue;
    const route = ('/' + [base, paths[0]].join('/')).replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
    const entry = hooks.register(new HandlerEntry(fn, METHODS[method as number] ?? 'ALL', route, 'nest', 5));
    setNestMethod(entry, { method: name, depth });
    const wrapped = {
      [name]: function (this: unknown, ...args: unknown[]) {
        return hooks.call(entry, this, args);
      },
    }[name];
    Object.defineProperty(wrapped, 'length', { value: fn.length });
    for (const k of R.getMetadataKeys(fn)) R.defineMetadata(k, R.getMetadata(k, fn), wrapped);
    R.defineMetadata(NEST_CANDIDATE_KEY, true, wrapped);
    (wrapped as unknown as Record<symbol, unknown>)[kWrapped] = entry;
    // An inherited route gets its wrapper on the controller's own prototype: the base class may
    // serve other controllers, each under its own path.
    Object.defineProperty(cls.prototype, name, { ...d, value: wrapped });
  }
}

function toPaths(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}
