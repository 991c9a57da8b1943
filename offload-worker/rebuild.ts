import { Lru } from '../gc';
import { parseCodeRecord, type CodeRecord } from './code-record';
import { WorkerErrors } from './errors';

type Factory = (scope: object) => Function;

/** Compiled code records, shared by every invocation of a warm worker (the code half of the closure space). */
const compiled = new Lru<string, { rec: CodeRecord; factory: Factory }>(2000);

/** Scope variables of every rebuilt function, filled after creation (captured values may be cyclic). */
const scopes = new WeakMap<Function, Map<string, unknown>>();

export interface BindingWrite {
  fn: Function;
  name: string;
  value: unknown;
}

/**
 * Rebuilds a function from its code record in a scope whose free variables resolve to the closure's
 * values: `with (scopeProxy)` in sloppy code around a strict inner function (FINDINGS.md). Writes to
 * captured bindings are reported, since the server must apply them (or refuse them) at commit.
 */
export function rebuildFunction(header: string, pre: unknown, onWrite: (w: BindingWrite) => void): Function {
  let entry = compiled.get(header);
  if (!entry) {
    const rec = parseCodeRecord(header);
    entry = { rec, factory: compile(rec) };
    compiled.set(header, entry);
  }
  const vars = new Map<string, unknown>();
  if (entry.rec.sup) vars.set(entry.rec.sup, pre);
  let self: Function | undefined;
  const scope = new Proxy(Object.create(null) as object, {
    has: (_t, k) => typeof k === 'string' && vars.has(k),
    get: (_t, k) => (k === Symbol.unscopables ? undefined : vars.get(k as string)),
    set: (_t, k, v) => {
      vars.set(k as string, v);
      if (self) onWrite({ fn: self, name: k as string, value: v });
      return true;
    },
  });
  try {
    self = entry.factory(scope);
  } catch (err) {
    throw WorkerErrors.REBUILD(`${entry.rec.name ?? 'function'}${entry.rec.at ? ` at ${entry.rec.at}` : ''}: ${(err as Error).message}`, { cause: err });
  }
  scopes.set(self, vars);
  return self;
}

/** Fills a rebuilt function's captured variables: `{ vars: { name: value } }`. */
export function fillFunction(fn: Function, data: unknown): void {
  const vars = scopes.get(fn);
  if (!vars) return;
  const rec = data as { vars?: Record<string, unknown> } | null;
  if (!rec || typeof rec !== 'object' || !rec.vars || typeof rec.vars !== 'object') return;
  for (const k of Object.keys(rec.vars)) vars.set(k, rec.vars[k]);
}

function compile(rec: CodeRecord): Factory {
  const body = rec.kind === 'expr' ? `(${rec.src}\n)` : `({${rec.src}\n})`;
  let outer: (scope: object) => unknown;
  try {
    // eslint-disable-next-line no-new-func
    outer = new Function('__bh_scope', `with (__bh_scope) { return (() => { 'use strict'; return ${body}; })(); }`) as typeof outer;
  } catch (err) {
    throw WorkerErrors.REBUILD(`${rec.name ?? 'function'}${rec.at ? ` at ${rec.at}` : ''} does not compile: ${(err as Error).message}`, { cause: err });
  }
  if (rec.kind === 'expr') return outer as Factory;
  return (scope) => {
    const holder = outer(scope) as object;
    const key = Reflect.ownKeys(holder)[0];
    const d = Object.getOwnPropertyDescriptor(holder, key)!;
    const fn = rec.kind === 'getter' ? d.get : rec.kind === 'setter' ? d.set : d.value;
    if (typeof fn !== 'function') throw new TypeError(`member ${String(key)} is not a function`);
    return fn;
  };
}

export function codeCacheStats(): { size: number; hits: number; misses: number } {
  return { size: compiled.size, hits: compiled.hits, misses: compiled.misses };
}
