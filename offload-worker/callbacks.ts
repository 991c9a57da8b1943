import type { Invocation } from './invocation';
import { functionPlace, scopeValues, scriptText } from './inspect';

/**
 * Callbacks a handler leaves for the response (`res.sendFile(p, cb)`, `res.render(v, l, cb)`,
 * `res.download(p, n, cb)`, `res.on('finish', fn)`): they run on the server after the replay, as
 * Express calls them locally (with the error of a missing file, the rendered html, on the real
 * response's events). A callback travels as what the server needs to make it again from its own
 * code: the server function whose copy created it, where in that function's text it starts, and
 * the values of the variables of that function it closes over — taken when the invocation ends,
 * as the callback would find them when it runs. `req`, `res` and `next` stand for the server's own.
 * What cannot be made again that way is refused here, before anything commits.
 */
export type CallbackDesc =
  | { kind: 'next' }
  | { kind: 'server'; fn: Function }
  | { kind: 'made'; fn: Function; at: number; text: string; group: number; vars: Array<[name: string, tag: VarTag, value: unknown]> };

/** A variable's value: itself, or the server's request, response or `next`. */
export type VarTag = 0 | 1 | 2 | 3;
export const VAR_VALUE = 0;
export const VAR_REQ = 1;
export const VAR_RES = 2;
export const VAR_NEXT = 3;

/** The name a recorded call with callbacks is replayed under: `['withCallbacks', method, [argIndexes], ...args]`. */
import { nearest, WITH_CALLBACKS } from '../protocol';
export { WITH_CALLBACKS };

/** Methods whose function arguments run on the server after the replay (agent/offload/5-replay.ts makes them). */
const CALLBACK_METHODS = new Set(['render', 'sendFile', 'download', 'on', 'once', 'prependListener', 'prependOnceListener']);

/** Names the rebuilt factory of a code record owns (offload-worker/rebuild.ts): its scope is the server's, not the handler's. */
const FACTORY_MARKS = ['__bh_has', '__bh_pre'];
const IDENT = /[A-Za-z_$][\w$]*/g;
/** How many values a callback's variables may hold in all before it is refused (a walk for req/res inside them). */
const WALK_LIMIT = 20000;

export interface CallbackContext {
  inv: Invocation;
  req: object;
  res: object;
  next?: Function;
  refuse(reason: string): Error;
}

/** Rewrites recorded calls whose arguments hold functions; throws a refusal where one cannot travel. */
export function describeCallbacks(calls: unknown[][], ctx: CallbackContext): unknown[][] {
  if (!calls.some((c) => c.some((a) => typeof a === 'function'))) return calls;
  const groups = new Map<Function, { id: number; vars: Map<string, unknown> }>();
  return calls.map((c) => {
    const [name, ...args] = c as [string, ...unknown[]];
    if (!CALLBACK_METHODS.has(name)) {
      if (args.some((a) => typeof a === 'function')) throw ctx.refuse(`res.${name}() with a function argument: it would have to run on the server`);
      return c;
    }
    const at: number[] = [];
    const out = args.map((a, i) => {
      if (typeof a !== 'function') return a;
      at.push(i);
      return describe(a, name, ctx, groups);
    });
    return at.length ? [WITH_CALLBACKS, name, at, ...out] : c;
  });
}

function describe(fn: Function, method: string, ctx: CallbackContext, groups: Map<Function, { id: number; vars: Map<string, unknown> }>): CallbackDesc {
  const where = `the callback of res.${method}()`;
  if (fn === ctx.next || fn === (ctx.req as { next?: unknown }).next) return { kind: 'next' };
  // A function that came from the server: the server calls its own.
  if (ctx.inv.space.ids.has(fn)) return { kind: 'server', fn };
  const text = Function.prototype.toString.call(fn);
  const place = functionPlace(fn);
  const containers = place ? [...ctx.inv.rebuilt].filter((r) => functionPlace(r)?.scriptId === place.scriptId) : [];
  if (!place || containers.length !== 1) {
    throw ctx.refuse(`${where} (${fn.name || 'anonymous'}) was not made by code the server sent${containers.length > 1 ? ' (its code has two copies in the closure)' : ''}: it cannot run on the server`);
  }
  const container = containers[0];
  const outer = Function.prototype.toString.call(container);
  if (/__bh_(?:this|super)\b/.test(outer)) throw ctx.refuse(`${where} sits in a function whose code was rewritten to travel (an arrow using this, or a class heritage): it cannot run on the server`);
  const isArrow = !('prototype' in fn) && !/^(?:async\s+)?function\b/.test(text);
  if (isArrow && /\b(?:this|arguments|super)\b|\bnew\s*\.\s*target\b/.test(text)) {
    throw ctx.refuse(`${where} is an arrow function using the handler's this/arguments: it cannot run on the server`);
  }
  const src = scriptText(place.scriptId);
  const start = nearest(src, outer, functionPlace(container)!.offset);
  const cbStart = nearest(src, text, place.offset);
  if (start < 0 || cbStart < start || cbStart + text.length > start + outer.length) throw ctx.refuse(`${where}: its code could not be found in the code the server sent`);
  // The variables it closes over that belong to the functions the server sent (not their factory's captured ones).
  const names = new Set([...(text.match(IDENT) ?? []), ...FACTORY_MARKS]);
  const vars = new Map<string, unknown>();
  for (const s of scopeValues(fn, names)) {
    if (FACTORY_MARKS.some((m) => s.values.has(m))) break;
    if (s.type !== 'closure' && s.type !== 'block' && s.type !== 'catch' && s.type !== 'local') continue;
    for (const [k, v] of s.values) if (!vars.has(k)) vars.set(k, v);
  }
  let g = groups.get(container);
  if (!g) groups.set(container, (g = { id: groups.size, vars: new Map() }));
  const out: Array<[string, VarTag, unknown]> = [];
  let budget = WALK_LIMIT;
  for (const [k, v] of vars) {
    // Callbacks of one function share its variables on the server, as they did here.
    if (g.vars.has(k) && !Object.is(g.vars.get(k), v)) throw ctx.refuse(`${where}: two callbacks close over different variables named '${k}'`);
    g.vars.set(k, v);
    const tag = v === ctx.req ? VAR_REQ : v === ctx.res ? VAR_RES : v === ctx.next ? VAR_NEXT : VAR_VALUE;
    if (tag === VAR_VALUE) budget = holdsPlumbing(v, ctx, budget, `${where}: '${k}'`);
    out.push([k, tag, tag === VAR_VALUE ? v : null]);
  }
  return { kind: 'made', fn: container, at: cbStart - start, text, group: g.id, vars: out };
}

/**
 * The request, the response or `next` held inside a value (`{ res }`) would reach the server as a
 * copy, not as the server's own: refused. Objects the server sent travel by identity and are not walked.
 */
function holdsPlumbing(v: unknown, ctx: CallbackContext, budget: number, what: string): number {
  const seen = new Set<object>();
  const stack = [v];
  while (stack.length) {
    const o = stack.pop();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
    if (o === ctx.req || o === ctx.res || o === ctx.next) throw ctx.refuse(`${what} holds the request, the response or next(): it would reach the server as a copy`);
    seen.add(o);
    if (ctx.inv.space.ids.has(o)) continue;
    if (--budget < 0) throw ctx.refuse(`${what} holds too many values to check`);
    if (o instanceof Map) for (const [k, x] of o) stack.push(k, x);
    else if (o instanceof Set) for (const x of o) stack.push(x);
    if (typeof o === 'object' && !ArrayBuffer.isView(o)) for (const k of Object.keys(o)) stack.push((o as Record<string, unknown>)[k]);
  }
  return budget;
}
