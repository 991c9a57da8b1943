import type { NextFunction, Request, Response } from 'express';
import { HandlerEntry, type Registry } from '../registry';
import { isNestProxy } from './nest';

const kPatched = Symbol.for('beehive.express.patched');
const kWrapped = Symbol.for('beehive.wrapped');

const METHODS = ['get', 'post', 'put', 'delete', 'patch', 'options', 'head', 'all'];

/**
 * The Express majors this instrumentation knows (their Route API and whether a handler's promise
 * is awaited): 4 and 5. Any other version, or one that cannot be read, is left unpatched: its
 * routes run on the server as without the agent.
 */
export const SUPPORTED_EXPRESS_MAJORS: readonly number[] = [4, 5];

/** The major of a supported Express version, or undefined. */
export function supportedExpressMajor(version: string): number | undefined {
  const m = /^(\d+)\.\d+\.\d+/.exec(version);
  const major = m ? Number(m[1]) : NaN;
  return SUPPORTED_EXPRESS_MAJORS.includes(major) ? major : undefined;
}

export interface ExpressHooks {
  registry: Registry;
  register(entry: HandlerEntry): HandlerEntry;
  handle(entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): unknown;
}

/** Express 4 and 5 by shape: the exported function carries Route, Router and the app prototypes. */
export function isExpress(exports: unknown): exports is { Route: { prototype: Record<string, unknown> } } {
  const e = exports as Record<string, unknown> | undefined;
  return (typeof e as string) === 'function' && !!e && typeof e.Route === 'function' && typeof e.Router === 'function' && !!e.application && !!e.request && !!e.response;
}

/**
 * Wraps the last handler of every Express route (paper §4.3: the business logic; middleware, param
 * callbacks and error handlers stay on the server). Works for Express 4 (its own Route) and 5 (the
 * `router` package's Route): both are reachable as `express.Route`. Returns the unpatch, or
 * undefined when this Express is not patched (already patched, or a version outside
 * SUPPORTED_EXPRESS_MAJORS). The unpatch restores Route's methods, and the handlers wrapped so far
 * call their original directly from then on, as without the agent.
 */
export function patchExpress(express: { Route?: { prototype: Record<string, unknown> } }, version: string, hooks: ExpressHooks): (() => void) | undefined {
  const Route = express?.Route;
  const major = supportedExpressMajor(version);
  if (!Route || major === undefined || (Route.prototype as Record<symbol, unknown>)[kPatched]) return undefined;
  const state = { active: true };
  const originals = new Map<string, unknown>();
  for (const method of METHODS) {
    const orig = Route.prototype[method];
    if (typeof orig !== 'function') continue;
    originals.set(method, orig);
    Route.prototype[method] = function patched(this: { path: string }, ...args: unknown[]) {
      const handlers = args.flat(Infinity);
      const last = handlers[handlers.length - 1];
      // Error handlers (4 parameters) and already wrapped functions are left alone.
      if (typeof last === 'function' && last.length < 4 && !(last as unknown as Record<symbol, unknown>)[kWrapped] && !isNestProxy(last)) {
        const entry = hooks.register(new HandlerEntry(last, method === 'all' ? 'ALL' : method.toUpperCase(), String(this.path), 'express', major));
        handlers[handlers.length - 1] = wrap(entry, hooks, state);
      }
      return (orig as (...a: unknown[]) => unknown).apply(this, handlers);
    };
  }
  (Route.prototype as Record<symbol, unknown>)[kPatched] = true;
  const unpack = packAsInvocationOwn(express as ExpressProtos);
  return () => {
    state.active = false;
    unpack();
    for (const [m, f] of originals) Route.prototype[m] = f;
    delete (Route.prototype as Record<symbol, unknown>)[kPatched];
  };
}

function wrap(entry: HandlerEntry, hooks: ExpressHooks, state: { active: boolean }): Function {
  const fn = entry.fn;
  // Same arity and name, so that Express and the app's own introspection see the handler they wrote.
  const wrapped = {
    [fn.name || 'handler']: function (this: unknown, req: Request, res: Response, next: NextFunction) {
      if (!state.active) return fn.call(this, req, res, next);
      try {
        if (!entry.routeResolved && req.route?.path !== undefined) entry.resolveRoute(`${req.baseUrl ?? ''}${req.route.path}`, hooks.registry);
      } catch {
        /* naming only */
      }
      return hooks.handle(entry, this, req, res, next);
    },
  }[fn.name || 'handler'];
  Object.defineProperty(wrapped, 'length', { value: fn.length });
  (wrapped as unknown as Record<symbol, unknown>)[kWrapped] = entry;
  return wrapped;
}

const kPack = Symbol.for('beehive.pack');
type ExpressProtos = { request?: object; response?: object };

/**
 * The server's real `req` and `res`, reached through a closure middleware made (`res.ok = d =>
 * res.json(d)`), travel as "this invocation's request/response": on the worker they are the
 * handler's own `req` and `res`, never the server's sockets.
 */
function packAsInvocationOwn(express: ExpressProtos): () => void {
  const done: object[] = [];
  for (const [proto, unpacker] of [[express.request, 'beehive.request'], [express.response, 'beehive.response']] as const) {
    if (!proto || Object.prototype.hasOwnProperty.call(proto, kPack)) continue;
    Object.defineProperty(proto, kPack, { value: () => ({ unpacker, record: null }), configurable: true, enumerable: false, writable: true });
    done.push(proto);
  }
  return () => {
    for (const p of done) delete (p as Record<symbol, unknown>)[kPack];
  };
}
