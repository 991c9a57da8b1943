import { ChannelErrors, nearest } from '../../protocol';
import { nestedFunctionAt } from '../capture/analysis';
import { encodeFunction, functionInfo, offsetOf } from '../capture/function-record';
import { scriptSource } from '../capture/inspector';

/**
 * The callbacks an offloaded handler left for the response (offload-worker/callbacks.ts), made again
 * here from the server's own code: the function the worker named (one of the invocation's leased
 * functions, so one the server sent), the nested function at the offset it gave, checked against
 * the text it gave. Its variables: those of the handler's own scope come from the worker (as they
 * stood when the handler was done); the ones it shares with its enclosing function's captured
 * scope are the server's live bindings; the rest are the server's globals. A worker never sends
 * code: only where in the server's code the callback is.
 */
export interface CallbackScope {
  req: object;
  res: object;
  next?: (...a: unknown[]) => unknown;
}

type Made = { kind: 'made'; fn: Function; at: number; text: string; group: number; vars: Array<[string, number, unknown]> };
type Desc = { kind: 'next' } | { kind: 'server'; fn: Function } | Made;

const IDENT = /^[A-Za-z_$][\w$]*$/;

/**
 * The functions for every callback of a recorded response, by descriptor. Callbacks made by one
 * function share that function's variables, as they did on the worker (a 'finish' listener and a
 * sendFile callback closing over the same `let`): each group is made by one factory.
 */
export function makeCallbacks(calls: unknown[][], scope: CallbackScope, withCallbacks: string): Map<unknown, Function> {
  const made = new Map<unknown, Function>();
  const groups = new Map<number, Made[]>();
  for (const c of calls) {
    if (c[0] !== withCallbacks) continue;
    const at = c[2];
    const args = c.slice(3);
    if (!Array.isArray(at) || at.some((i) => !Number.isInteger(i) || i < 0 || i >= args.length)) throw ChannelErrors.MALFORMED('callback positions must index the call');
    for (const i of at as number[]) {
      const d = args[i] as Desc;
      if (!d || typeof d !== 'object' || made.has(d)) throw ChannelErrors.MALFORMED('callback must be described once');
      if (d.kind === 'next') made.set(d, requireNext(scope) as Function);
      else if (d.kind === 'server') {
        if (typeof d.fn !== 'function') throw ChannelErrors.MALFORMED('server callback must be a function');
        made.set(d, d.fn);
      } else if (d.kind === 'made') {
        if (!Number.isInteger(d.group)) throw ChannelErrors.MALFORMED('callback group must be an integer');
        const g = groups.get(d.group) ?? [];
        groups.set(d.group, g);
        g.push(d);
      } else throw ChannelErrors.MALFORMED('unknown callback kind');
    }
  }
  for (const g of groups.values()) {
    const fns = makeGroup(g, scope);
    g.forEach((d, i) => made.set(d, fns[i]));
  }
  return made;
}

interface Located {
  d: Made;
  text: string;
  names: string[];
  values: unknown[];
  strict: boolean;
}

function makeGroup(group: Made[], scope: CallbackScope): Function[] {
  const fn = group[0].fn;
  if (typeof fn !== 'function' || group.some((d) => d.fn !== fn)) throw ChannelErrors.MALFORMED('a callback group has one function');
  const info = functionInfo(fn);
  const loc = info.location;
  if (!loc) throw ChannelErrors.MALFORMED("the callback's function has no script");
  const source = scriptSource(loc.scriptId);
  const outerText = Function.prototype.toString.call(fn);
  const outerStart = nearest(source, outerText, offsetOf(source, loc.line, loc.column));
  if (outerStart < 0) throw ChannelErrors.MALFORMED("the callback's function is not in its script");
  // The worker's values of the function's own variables, shared by the group.
  const given = new Map<string, unknown>();
  for (const d of group) {
    if (!Array.isArray(d.vars)) throw ChannelErrors.MALFORMED('callback variables must be a list');
    for (const v of d.vars) {
      if (!Array.isArray(v) || typeof v[0] !== 'string') throw ChannelErrors.MALFORMED('callback variable must be [name, tag, value]');
      const [name, tag, value] = v as [string, number, unknown];
      given.set(name, tag === 1 ? scope.req : tag === 2 ? scope.res : tag === 3 ? requireNext(scope) : value);
    }
  }
  let outside: Record<string, unknown> | undefined;
  const located: Located[] = group.map((d) => {
    if (!Number.isInteger(d.at) || d.at < 0 || typeof d.text !== 'string') throw ChannelErrors.MALFORMED('callback description is malformed');
    const start = outerStart + d.at;
    if (source.slice(start, start + d.text.length) !== d.text) throw ChannelErrors.MALFORMED("the callback is not in its function's code");
    const nested = nestedFunctionAt({ key: loc.scriptId, source, isModule: loc.isModule }, { start: outerStart, end: outerStart + outerText.length }, start, d.text);
    if (!nested) throw ChannelErrors.MALFORMED('no function starts where the callback was said to');
    const names: string[] = [];
    const values: unknown[] = [];
    for (const f of nested.free) {
      if (!IDENT.test(f.name)) continue;
      if (f.inside) {
        if (!given.has(f.name)) throw ChannelErrors.MALFORMED(`the callback's variable '${f.name}' was not sent`);
        names.push(f.name);
        values.push(given.get(f.name));
        continue;
      }
      const vars: Record<string, unknown> = (outside ??= (encodeFunction(fn, info).data as { vars: Record<string, unknown> }).vars);
      if (Object.prototype.hasOwnProperty.call(vars, f.name)) {
        names.push(f.name);
        values.push(vars[f.name]);
      }
      // Otherwise a global of the server, which the callback reads as it would locally.
    }
    return { d, text: d.text, names, values, strict: nested.strict };
  });
  // One factory for the group, unless a name stands for different bindings in two of them.
  const union = new Map<string, unknown>();
  let shared = true;
  for (const l of located) {
    l.names.forEach((n, i) => {
      if (union.has(n) && !Object.is(union.get(n), l.values[i])) shared = false;
      union.set(n, l.values[i]);
    });
  }
  if (shared) return factory([...union.keys()], located)([...union.values()]);
  return located.map((l) => factory(l.names, [l])(l.values)[0]);
}

function factory(names: string[], located: Located[]): (values: unknown[]) => Function[] {
  const body = located.map((l) => (l.strict ? `(() => { 'use strict'; return (${l.text}\n); })()` : `(${l.text}\n)`)).join(',\n');
  const decl = names.length ? `let ${names.map((n, i) => `${n} = __bh_v[${i}]`).join(', ')};` : '';
  // eslint-disable-next-line no-new-func
  return new Function('__bh_v', `${decl} return [${body}];`) as (values: unknown[]) => Function[];
}

function requireNext(scope: CallbackScope): unknown {
  if (!scope.next) throw ChannelErrors.MALFORMED('next() is not known for this request');
  return scope.next;
}
