import { fileURLToPath } from 'node:url';
import type { FunctionEncoding } from '../../protocol';
import { analyzeFunction, THIS_VAR, type FunctionAnalysis } from './analysis';
import { functionLocation, readScopes, scriptSource, type FunctionLocation } from './inspector';
import { CaptureErrors } from './errors';

/**
 * A function's code record and how to read its captured variables. Built once per function
 * (WeakMap); afterwards a capture reads through the inspector only the bindings that some code
 * reassigns — the values of bindings never reassigned are kept from the first read.
 */
export interface FunctionInfo {
  header: string;
  analysis: FunctionAnalysis;
  location?: FunctionLocation;
  file?: string;
  /** Values of never-reassigned bindings, read once. */
  stable: Map<string, unknown>;
  /** Names to read at every capture. */
  volatile: Set<string>;
  /** Why this function cannot run on a worker, if it cannot. */
  reason?: string;
  /** Free names that are true globals of the server (not captured). */
  globals: string[];
  /**
   * A class whose methods (named) assign captured variables: shippable only where none of those
   * methods can run (see CaptureOptions.allowMemberWrites), refused otherwise.
   */
  memberWrites?: Array<{ name: string; members: string[]; at?: string }>;
}

const infos = new WeakMap<Function, FunctionInfo>();
const sources = new Map<string, string>();

/** Globals a worker has too; anything else the app put on globalThis travels as a captured value. */
const WORKER_GLOBALS = new Set(Object.getOwnPropertyNames(globalThis).concat(['require', 'module', 'exports', '__filename', '__dirname', 'undefined', 'NaN', 'Infinity', 'arguments', 'this']));

/** Whether `fn`'s code record was built already (a capture reached it). */
export function hasFunctionInfo(fn: Function): boolean {
  return infos.has(fn);
}

export function functionInfo(fn: Function): FunctionInfo {
  let info = infos.get(fn);
  if (info) return info;
  const text = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}$/.test(text)) throw CaptureErrors.NATIVE(fn.name || '(anonymous)');
  const location = functionLocation(fn);
  if (location?.url.startsWith('node:')) throw CaptureErrors.NATIVE(`${fn.name || '(anonymous)'} is internal to Node (${location.url})`);
  let script: { key: string; source: string; isModule: boolean; offset: number } | undefined;
  if (location) {
    let source = sources.get(location.scriptId);
    if (source === undefined) {
      source = scriptSource(location.scriptId);
      sources.set(location.scriptId, source);
    }
    script = { key: location.scriptId, source, isModule: location.isModule, offset: offsetOf(source, location.line, location.column) };
  }
  const analysis = analyzeFunction(fn, script);
  const file = location?.url ? (location.url.startsWith('file:') ? fileURLToPath(location.url) : location.url) : undefined;
  const at = file ? `${file}:${(location?.line ?? 0) + 1}` : undefined;
  const names = new Set(analysis.freeVars.map((v) => v.name));
  const scopes = names.size ? readScopes(fn, names) : [];
  const stable = new Map<string, unknown>();
  const volatile = new Set<string>();
  const globals: string[] = [];
  let reason: string | undefined;
  let memberWrites: FunctionInfo['memberWrites'];
  const isClass = /^class[\s{]/.test(text);
  for (const v of analysis.freeVars) {
    const scope = scopes.find((s) => s.values.has(v.name));
    if (!scope) {
      // A global: the worker's own, unless the app defined it.
      if (!WORKER_GLOBALS.has(v.name) && v.name in globalThis) stable.set(v.name, (globalThis as Record<string, unknown>)[v.name]);
      else globals.push(v.name);
      if (v.written && !reason) reason = `assigns the global '${v.name}'${at ? ` (${at})` : ''}`;
      continue;
    }
    const wat = writeLine(v, script, analysis.standalone, file, text, location?.line) ?? at;
    const members = v.writes?.map((w) => w.member);
    if (v.written && isClass && members?.length && members.every((m) => m && m !== 'constructor' && m !== 'static')) {
      (memberWrites ??= []).push({ name: v.name, members: [...new Set(members as string[])], at: wat });
    } else if (v.written && !reason) reason = `assigns the captured variable '${v.name}'${wat ? ` (${wat})` : ''}: its new value could not be written back`;
    // A binding that reads undefined may be in its temporal dead zone (a `const` below a top-level
    // await that had not finished, which the inspector reports as undefined): read again each time,
    // never kept — else the first capture's undefined would stand for it for good.
    const value = scope.values.get(v.name);
    if (v.reassigned || analysis.standalone || value === undefined) volatile.add(v.name);
    else stable.set(v.name, value);
  }
  if (analysis.hasPrivate && !reason) reason = `class ${analysis.name ?? ''}${at ? ` (${at})` : ''} has private instance fields or methods, which a worker cannot recreate on a copy`;
  const captured = [...stable.keys(), ...volatile];
  if (analysis.arrowThis) captured.push(THIS_VAR);
  if (globals.includes('process')) captured.push('process');
  const strict = analysis.strict || (script ? script.isModule || /^\s*(?:#![^\n]*\n\s*)?(['"])use strict\1/.test(script.source) : false);
  info = {
    header: JSON.stringify({ src: analysis.src, kind: analysis.kind, name: analysis.name, sup: analysis.sup, at, names: captured, strict }),
    analysis,
    location,
    file,
    stable,
    volatile,
    reason,
    globals,
    memberWrites,
  };
  infos.set(fn, info);
  return info;
}

/** The code record and captured values of `fn` now; `self` is an arrow function's lexical `this`. */
export function encodeFunction(fn: Function, info: FunctionInfo, self?: unknown): FunctionEncoding {
  const vars: Record<string, unknown> = {};
  if (info.analysis.arrowThis) vars[THIS_VAR] = self;
  for (const [k, v] of info.stable) vars[k] = v;
  if (info.volatile.size) {
    for (const s of readScopes(fn, info.volatile)) for (const [k, v] of s.values) if (!(k in vars)) vars[k] = v;
  }
  const data: { vars: Record<string, unknown>; proto?: object } = { vars };
  if (info.analysis.protoMembers) {
    const extras = prototypeExtras(fn, info.analysis.protoMembers);
    if (extras) data.proto = extras;
  }
  return {
    header: info.header,
    pre: info.analysis.sup ? Object.getPrototypeOf(fn) : undefined,
    data,
  };
}

/**
 * Members the app put on a class's prototype after the class was defined (`C.prototype.extra = …`, a
 * body method replaced): the rebuilt class's source does not recreate them, so they travel with it,
 * as a null-prototype object holding the same property descriptors. Decided once per class, then
 * re-checked by identity of the member values.
 */
const protoSeen = new WeakMap<Function, { values: Map<string | symbol, unknown>; extras: object | undefined }>();
function prototypeExtras(cls: Function, members: string[]): object | undefined {
  const proto = cls.prototype as object;
  const keys = Reflect.ownKeys(proto);
  const seen = protoSeen.get(cls);
  const valueOf = (k: string | symbol) => {
    const d = Object.getOwnPropertyDescriptor(proto, k)!;
    return 'value' in d ? d.value : [d.get, d.set];
  };
  if (seen && seen.values.size === keys.length && keys.every((k) => {
    const v = valueOf(k);
    const old = seen.values.get(k);
    return Array.isArray(v) && Array.isArray(old) ? v[0] === old[0] && v[1] === old[1] : Object.is(v, old);
  })) return seen.extras;
  const text = Function.prototype.toString.call(cls);
  // A BeeHive route wrapper (Nest) stands for the method it wraps: the rebuilt class has the original.
  const unwrap = (f: unknown) => ((f as Record<symbol, { fn?: unknown } | undefined> | undefined)?.[Symbol.for('beehive.wrapped')]?.fn ?? f);
  const inSource = (f: unknown) => typeof f !== 'function' || text.includes(Function.prototype.toString.call(unwrap(f)));
  let extras: Record<string | symbol, unknown> | undefined;
  const values = new Map<string | symbol, unknown>();
  for (const k of keys) {
    values.set(k, valueOf(k));
    if (k === 'constructor') continue;
    const d = Object.getOwnPropertyDescriptor(proto, k)!;
    const own = typeof k === 'string' && members.includes(k) && ('value' in d ? inSource(d.value) && typeof d.value === 'function' : inSource(d.get) && inSource(d.set));
    if (own) continue;
    extras ??= Object.create(null) as Record<string | symbol, unknown>;
    Object.defineProperty(extras, k, d);
  }
  protoSeen.set(cls, { values, extras });
  return extras;
}

/** The file:line of a variable's first write, when the function was analysed in its script. */
function writeLine(v: { writes?: Array<{ offset: number }> }, script: { source: string } | undefined, standalone: boolean, file: string | undefined, text: string, fnLine: number | undefined): string | undefined {
  const off = v.writes?.[0]?.offset;
  if (off === undefined || !file) return undefined;
  const newlines = (s: string, end: number) => {
    let n = 0;
    for (let i = s.indexOf('\n'); i >= 0 && i < end; i = s.indexOf('\n', i + 1)) n++;
    return n;
  };
  // Analysed in its script: offsets are the script's. On its own (a method): offsets are in its
  // text behind a one- or two-character wrapper without newlines.
  if (script && !standalone) return `${file}:${newlines(script.source, off) + 1}`;
  if (fnLine === undefined) return undefined;
  return `${file}:${fnLine + 1 + newlines(text, off)}`;
}

/** The offset of a 0-based line and column in `source` (its end for a line past it). */
export function offsetOf(source: string, line: number, column: number): number {
  let off = 0;
  for (let l = 0; l < line; l++) {
    const nl = source.indexOf('\n', off);
    if (nl < 0) break;
    off = nl + 1;
  }
  return off + column;
}
