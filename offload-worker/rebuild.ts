import { Lru } from '../gc';
import { parseCodeRecord, type CodeRecord } from './code-record';
import { WorkerErrors } from './errors';

/** A compiled code record: makes a fresh closure (the function and a setter for its captured variables). */
type Factory = (pre: unknown) => [Function, (vars: Record<string, unknown>) => void];

/** Compiled code records, shared by every invocation of a warm worker (the code half of the closure space). */
const compiled = new Lru<string, { rec: CodeRecord; factory: Factory }>(2000);

/** The setter of every rebuilt function's captured variables, filled after creation (values may be cyclic). */
const setters = new WeakMap<Function, { set: (vars: Record<string, unknown>) => void; names: string[] }>();

/**
 * Rebuilt functions kept across the invocations of a warm worker, by server identity: the same
 * server function is the same closure here, its captured variables reset at every decode. A fresh
 * closure per invocation would start cold in V8 every time (measured: a recursive 3 ms function ran
 * 65% slower); a kept one stays optimised. One invocation runs at a time, so sharing is safe.
 */
const kept = new Lru<number, { header: string; pre: unknown; fn: Function }>(4000);

/**
 * Rebuilds a function from its code record. Its captured variables become real `let` bindings of a
 * factory around the source — so the rebuilt function runs as fast as the original, globals
 * resolve directly, and V8 optimises it like any closure — and are set once the closure's values
 * are decoded. (A captured binding the function assigns never reaches a worker: the server refuses
 * such handlers at capture, with a reason.)
 */
export function rebuildFunction(header: string, pre: unknown, id = 0): Function {
  if (id !== 0) {
    const k = kept.get(id);
    if (k && k.header === header && k.pre === pre) return k.fn;
  }
  let entry = compiled.get(header);
  if (!entry) {
    const rec = parseCodeRecord(header);
    entry = { rec, factory: compile(rec) };
    compiled.set(header, entry);
  }
  let made: [Function, (vars: Record<string, unknown>) => void];
  try {
    made = entry.factory(pre);
  } catch (err) {
    throw WorkerErrors.REBUILD(`${entry.rec.name ?? 'function'}${entry.rec.at ? ` at ${entry.rec.at}` : ''}: ${(err as Error).message}`, { cause: err });
  }
  setters.set(made[0], { set: made[1], names: entry.rec.names ?? [] });
  if (id !== 0) kept.set(id, { header, pre, fn: made[0] });
  return made[0];
}

/**
 * Fills a rebuilt function's captured variables: `{ vars: { name: value }, proto? }`; `proto` holds
 * members the app added to a class's prototype after defining it, defined onto the rebuilt one.
 */
export function fillFunction(fn: Function, data: unknown): void {
  const s = setters.get(fn);
  const rec = data as { vars?: Record<string, unknown>; proto?: object } | null;
  if (!s || !rec || typeof rec !== 'object' || !rec.vars || typeof rec.vars !== 'object') return;
  s.set(rec.vars);
  if (rec.proto && typeof rec.proto === 'object' && fn.prototype && typeof fn.prototype === 'object') {
    for (const k of Reflect.ownKeys(rec.proto)) {
      if (k === 'constructor' || k === '__proto__') continue;
      Object.defineProperty(fn.prototype, k, Object.getOwnPropertyDescriptor(rec.proto, k)!);
    }
  }
}

/**
 * Drops a kept function's captured values once its invocation is over, so that a warm worker does
 * not hold the last request's objects alive until the next one.
 */
export function releaseFunction(fn: Function): void {
  const s = setters.get(fn);
  if (s && s.names.length) s.set(Object.fromEntries(s.names.map((n) => [n, undefined])));
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function compile(rec: CodeRecord): Factory {
  const names = [...new Set([...(rec.names ?? []), ...(rec.sup ? [rec.sup] : [])])];
  const body = rec.kind === 'expr' ? `(${rec.src}\n)` : `({${rec.src}\n})`;
  const decl = names.length ? `let ${names.join(', ')};` : '';
  const init = rec.sup ? `${rec.sup} = __bh_pre;` : '';
  // `__bh_has`, not `Object.prototype.hasOwnProperty`: a captured variable may be named Object (lodash's runInContext).
  const setter = `function (__bh_v) { ${names.map((n) => `if (__bh_has(__bh_v, '${n}')) ${n} = __bh_v['${n}'];`).join(' ')} }`;
  const inner = `[${body}, ${setter}]`;
  const code = `${decl} ${init} return ${rec.strict ? `(() => { 'use strict'; return ${inner}; })()` : inner};`;
  let outer: Factory;
  try {
    // eslint-disable-next-line no-new-func
    const made = new Function('__bh_pre', '__bh_has', code) as (pre: unknown, has: (o: object, k: string) => boolean) => ReturnType<Factory>;
    outer = (pre) => made(pre, hasOwn);
  } catch (err) {
    throw WorkerErrors.REBUILD(`${rec.name ?? 'function'}${rec.at ? ` at ${rec.at}` : ''} does not compile: ${(err as Error).message}`, { cause: err });
  }
  if (rec.kind === 'expr') return outer;
  return (pre) => {
    const [holder, set] = outer(pre) as unknown as [object, (v: Record<string, unknown>) => void];
    const key = Reflect.ownKeys(holder)[0];
    const d = Object.getOwnPropertyDescriptor(holder, key)!;
    const fn = rec.kind === 'getter' ? d.get : rec.kind === 'setter' ? d.set : d.value;
    if (typeof fn !== 'function') throw WorkerErrors.REBUILD(`member ${String(key)} is not a function`);
    return [fn, set];
  };
}
