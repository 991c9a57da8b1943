import Module from 'node:module';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { types } from 'node:util';
import { packagePrint } from '../../protocol';
import { readScopes } from './inspector';
import { aroundModuleLoad } from '../instrument/loader';

/**
 * Package state (DESIGN.md §4a). A package re-required on a worker is a pristine copy; the app may
 * have configured the server's copy after loading it (`marked.use()`, `dayjs.extend(utc)`,
 * `require('dayjs/locale/de')`, `dayjs.locale('de')`). The server keeps a replayable log of those
 * configurations and the worker replays it on its own copy before the handler runs:
 *
 * - At load every package file's state is recorded (its exports walked a few levels deep, and its
 *   module variables for a file that exports a function): the baseline.
 * - The top-level functions of a package the app requires itself are wrapped in a transparent
 *   stand-in. A call the app makes through one is checked: state equal to the baseline before,
 *   different after — the call configured the package, and goes into the log with its arguments
 *   (plugins are package modules, options data, app functions code) and the baseline moves. A
 *   function whose first calls change nothing is a plain one and its stand-in removes itself.
 * - A package file loaded by the app that changes another package through such a function (a
 *   locale file registering itself) goes into the log as the load.
 * - Any other difference from the baseline (a property set directly, a call made through a
 *   function that was not wrapped, arguments changed after the call) cannot be replayed: a member
 *   of that package is refused, with where it differs — never shipped to run on a different copy.
 *
 * The log travels with every package member a capture ships; the worker applies what it has not
 * applied yet and compares a fingerprint of the copies it configured with the server's.
 */
interface Entry {
  file: string;
  /** The file as a worker names it: its path inside node_modules. */
  spec: string;
  exports: unknown;
  /** Each object met at the baseline, with its own keys and values then. */
  objects: Map<object, unknown[]>;
  /** The module-scope variables at the baseline, by name. */
  scope: Map<string, unknown>;
  /** An exported function whose scopes are the module's (undefined: none to read). */
  scopeFn?: Function;
  /** A difference that cannot be replayed, once seen: members of this file are refused with it. */
  tainted?: string;
  /** The fingerprint of the baseline, once the log changed this file. */
  print?: string;
}

const byFile = new Map<string, Entry>();
/** Objects and functions a package file's state held when it loaded. */
const atLoad = new WeakSet<object>();

/**
 * Whether a value reached through a package's exports was there when the package loaded (false:
 * the app put it there later, through a configuration — a registered helper, a locale object),
 * or undefined when package state is not recorded.
 */
export function presentAtLoad(v: object): boolean | undefined {
  return enabled ? atLoad.has(v) : undefined;
}
const byExports = new WeakMap<object, Entry>();
const MAX_DEPTH = 2;
const MAX_OBJECTS = 2_000;
/** Calls of one function checked before it counts as a plain function, not a configuration call. */
const CHECKS = 2;
/** A package with more top-level functions than this is not wrapped (lodash): its calls are left alone, and its drift refused. */
const MAX_WRAPPED = 64;
/** Changing calls of one function the log takes; past that its changes are runtime state, not configuration. */
const MAX_LOGGED = 32;

let enabled = false;

/** One file being loaded: the package files whose functions it called while loading. */
interface Frame {
  file: string;
  pkg: boolean;
  touched: Set<Entry>;
}
const loading: Frame[] = [];

const isPackageFile = (f: string) => f.includes(`${path.sep}node_modules${path.sep}`);

/**
 * Starts recording package files as they load (the agent calls it before the app loads its
 * packages), and following which file is loading, so that calls made by a package file's top level
 * are known as that file's load.
 */
export function installPackageStateHook(): void {
  if (enabled) return;
  enabled = true;
  aroundModuleLoad((m, filename) => {
    const frame: Frame = { file: filename, pkg: isPackageFile(filename), touched: new Set() };
    if (frame.pkg) directLoads.set(filename, loading.length === 0 || !loading[loading.length - 1].pkg);
    loading.push(frame);
    return (ok) => {
      loading.pop();
      // Recorded here, before the load's effects on other packages are: the stand-ins a file's
      // own exports get (a locale's functions) are part of the state the log then records.
      if (ok) notePackageLoad(filename, m.exports);
      if (frame.touched.size) {
        try {
          afterLoad(frame, ok);
        } catch {
          /* recording must never break the app's require */
        }
      }
    };
  });
}
/** Called for each package file the app loads itself, before its state is recorded (package-instance.ts). */
const directLoadHooks: Array<(file: string, spec: string, exports: unknown) => void> = [];
export function onDirectPackageLoad(fn: (file: string, spec: string, exports: unknown) => void): void {
  directLoadHooks.push(fn);
}
/** Whether a package file was loaded by the app itself (not by another package). */
const directLoads = new Map<string, boolean>();

/** The module loader's report of a file that finished loading (agent/instrument/loader.ts). */
export function notePackageLoad(filename: string, exports: unknown): void {
  if (!enabled || !isPackageFile(filename) || byFile.has(filename)) return;
  try {
    if (directLoads.get(filename)) {
      wrapFunctions(filename, exports);
      for (const fn of directLoadHooks) fn(filename, specOf(filename), exports);
    }
    record(filename, exports);
  } catch {
    /* recording must never break the app's require */
  }
}

function record(file: string, exports: unknown): void {
  // Module variables are read (through the inspector, the costly part) for a file that exports a
  // function — dayjs, a package whose state is its module's variables; an object's exports carry
  // their state in their properties.
  const scopeFn = typeof exports === 'function' ? (unwrap(exports as Function) as Function) : undefined;
  const e: Entry = { file, spec: specOf(file), exports, objects: new Map(), scope: new Map(), scopeFn };
  baseline(e);
  for (const [o, sh] of e.objects) {
    atLoad.add(o);
    for (let i = 1; i < sh.length; i++) if (typeof sh[i] === 'function' || (sh[i] !== null && typeof sh[i] === 'object')) atLoad.add(sh[i] as object);
  }
  byFile.set(file, e);
  if (exports !== null && (typeof exports === 'object' || typeof exports === 'function') && !byExports.has(exports)) byExports.set(exports, e);
}

/** Takes the file's current state as what a worker's copy must show (at load, and after a logged configuration). */
function baseline(e: Entry): void {
  const objects = new Map<object, unknown[]>();
  const note = (o: object, _label: string, sh: unknown[]) => {
    if (!objects.has(o)) objects.set(o, sh);
  };
  walk(e.exports, note);
  const scope = moduleScope(e.scopeFn);
  for (const v of scope.values()) walk(v, note);
  e.objects = objects;
  e.scope = scope;
  e.print = undefined;
}

const CJS_WRAPPER = new Set(['module', 'exports', 'require', '__filename', '__dirname']);

function moduleScope(fn: Function | undefined): Map<string, unknown> {
  if (!fn) return new Map();
  try {
    // Every scope around an exported function: its module's, and a bundle's factory (dayjs, UMD
    // builds keep their state there). The CommonJS wrapper's own variables are the loader's.
    const out = new Map<string, unknown>();
    readScopes(fn).forEach((sc, i) => {
      for (const [k, v] of sc.values) if (!CJS_WRAPPER.has(k)) out.set(`${k}${i ? `@${i}` : ''}`, v);
    });
    return out;
  } catch {
    return new Map();
  }
}

/** In a shape, after a key: an accessor's getter and setter follow (a data property has one value). */
const ACCESSOR = Symbol('accessor');

/**
 * Own keys and values (accessors as the marker, then their functions), in order: what "changed"
 * means for one object.
 */
export function shape(o: object): unknown[] {
  const out: unknown[] = [];
  let keys: Array<string | symbol>;
  try {
    keys = Reflect.ownKeys(o);
  } catch {
    return out;
  }
  for (const k of keys) {
    if (typeof o === 'function' && (k === 'caller' || k === 'arguments')) continue;
    let d: PropertyDescriptor | undefined;
    try {
      d = Object.getOwnPropertyDescriptor(o, k);
    } catch {
      continue;
    }
    if (!d) continue;
    out.push(k);
    if ('value' in d) out.push(d.value);
    else out.push(ACCESSOR, d.get, d.set);
  }
  return out;
}

/** Each own property's key and what it holds (an accessor: its getter and setter) as shape() lists them. */
function eachHeld(sh: unknown[], fn: (key: string | symbol, v: unknown) => void): void {
  for (let i = 0; i < sh.length; ) {
    const key = sh[i] as string | symbol;
    if (sh[i + 1] === ACCESSOR) {
      fn(key, sh[i + 2]);
      fn(key, sh[i + 3]);
      i += 4;
    } else {
      fn(key, sh[i + 1]);
      i += 2;
    }
  }
}

/**
 * The global object and its built-ins (`root` in lodash's module scope, a captured `process`): the
 * worker has its own, and their state is not the package's.
 */
let globalValues: WeakSet<object> | undefined;
export function isGlobalValue(v: object): boolean {
  if (!globalValues) {
    globalValues = new WeakSet<object>([globalThis, process]);
    for (const k of Object.getOwnPropertyNames(globalThis)) {
      const d = Object.getOwnPropertyDescriptor(globalThis, k);
      const g = d && 'value' in d ? d.value : undefined;
      if (g !== null && (typeof g === 'object' || typeof g === 'function')) globalValues.add(g);
    }
  }
  return globalValues.has(v);
}

/**
 * Objects reachable through own properties, a few levels deep, breadth first, each visited with its
 * shape (computed once: the visitors record or compare it, and the walk goes on through it).
 * Labels start at `rootLabel` (a package's `exports`).
 */
export function walk(root: unknown, visit: (o: object, label: string, sh: unknown[]) => boolean | void, rootLabel = 'exports'): void {
  const seen = new Set<object>();
  let level: Array<[unknown, string]> = [[root, rootLabel]];
  for (let depth = 0; depth <= MAX_DEPTH && level.length; depth++) {
    const next: Array<[unknown, string]> = [];
    for (const [v, label] of level) {
      if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v) || seen.size >= MAX_OBJECTS || isGlobalValue(v)) continue;
      seen.add(v);
      const sh = shape(v);
      if (visit(v, label, sh) === false) return;
      if (depth < MAX_DEPTH) eachHeld(sh, (k, held) => next.push([held, `${label}.${String(k)}`]));
    }
    level = next;
  }
}

export function same(a: unknown[], b: unknown[] | undefined): boolean {
  if (!b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** The package's name for a reason (`@nestjs/common`, `dayjs`). */
export function packageName(file: string): string {
  const rest = specOf(file).split('/');
  return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}
function specOf(file: string): string {
  const marker = `${path.sep}node_modules${path.sep}`;
  return file.slice(file.lastIndexOf(marker) + marker.length).split(path.sep).join('/');
}

/**
 * Package objects whose own changes a worker does not need (Nest's `Logger` class: the app's log
 * configuration lives in its statics, and Logger calls made on a worker are replayed on the server's
 * Logger, agent/offload/5-nest-logger.ts). What they reach is still compared.
 */
const driftExempt = new WeakSet<object>();
export function exemptFromPackageDrift(o: object): void {
  driftExempt.add(o);
}

/**
 * Where the file's state reached from `member` differs from its baseline, or undefined. What the
 * member reaches through its own properties is compared; for the file's exports themselves (dayjs),
 * so are the module's variables (its current locale).
 */
function difference(e: Entry, member: unknown, where: string, memo = false): string | undefined {
  let why: string | undefined;
  const compare = (prefix: string) => (o: object, label: string, sh: unknown[]) => {
    if (driftExempt.has(o)) return true;
    const base = e.objects.get(o);
    if (base === undefined) return true; // new since the baseline: its holder's record differs
    if (!same(sh, base)) {
      why = `${prefix}${label.slice('exports'.length)} differs`;
      return false;
    }
    return true;
  };
  walk(member, compare(where));
  if (!why && member === e.exports && e.scopeFn && !(memo && scopeCleanThisTurn.has(e))) {
    const now = moduleScope(e.scopeFn);
    for (const [k, v] of e.scope) {
      if (!Object.is(now.get(k), v)) why = `its module variable ${k} differs`;
      else walk(v, compare(`its module variable ${k}`));
      if (why) break;
    }
    if (memo && !why) {
      if (!scopeCleanThisTurn.size) queueMicrotask(() => scopeCleanThisTurn.clear());
      scopeCleanThisTurn.add(e);
    }
  }
  return why;
}

/**
 * Files whose module variables a capture read and found at their baseline in this synchronous turn
 * (one capture reaches a package through several members): no app or package code runs before a
 * capture's turn ends, so a second read would see the same, and the inspector read (milliseconds)
 * is made once. Only captures use it: a checked call runs package code between its two reads.
 */
const scopeCleanThisTurn = new Set<Entry>();

// ---------------------------------------------------------------------------------------------
// The configuration log

/** One replayable step: a package file the app loaded, or a call it made on a package function. */
type LogEvent = ({ load: string } | { call: string; path: string[]; self: string[] | null; args: unknown[]; argShapes: Map<object, unknown[]>; name: string }) & {
  affects: Entry[];
  /** Why the step can no longer be replayed: the files it changed are refused, and it travels as a gap. */
  dropped?: string;
};

const log: LogEvent[] = [];
/** This server process's log: a worker that applied another process's log cannot take this one. */
const gen = randomBytes(8).toString('hex');

/** A stand-in around a package function, and what it needs to log a call. */
interface Wrapped {
  entry?: Entry;
  file: string;
  orig: Function;
  holder: object;
  holderPath: string[];
  key: string;
  checks: number;
  /** Calls of it the log holds. */
  logged: number;
  /** Stands on the holder for a method of its prototype (removed when it steps aside). */
  shadow: boolean;
  name: string;
}
const wrapped = new WeakMap<Function, Wrapped>();
const standIns = new WeakMap<Function, Function>();
/** Inside a checked call: calls it makes through other stand-ins are part of it. */
let callDepth = 0;

/** The stand-in that was installed around a package function, if one was. */
export function standInOf(f: Function): Function | undefined {
  return standIns.get(f);
}

/** The function a stand-in wraps (itself for anything else). */
export function unwrap(f: Function): Function {
  return wrapped.get(f)?.orig ?? protoOrig.get(f) ?? f;
}

/** Stand-ins on package classes' prototypes (package-instance.ts), by the method each wraps. */
const protoOrig = new WeakMap<Function, Function>();
export function noteStandIn(stand: Function, orig: Function): void {
  protoOrig.set(stand, orig);
  if (!standIns.has(orig)) standIns.set(orig, stand);
}

/**
 * What package-instance.ts shares with this log: its limits, the class test, the fingerprint. (Not
 * exported constants: `exports` is a parameter name in this file, and would shadow them.)
 */
export const limits = (): { checks: number; maxWrapped: number; maxLogged: number } => ({ checks: CHECKS, maxWrapped: MAX_WRAPPED, maxLogged: MAX_LOGGED });
export function classLike(f: Function): boolean {
  return isClassLike(f);
}
export function fingerprint(root: unknown): string {
  return printOf(root);
}

/** Checked calls in progress: a call made inside one (through any stand-in) is part of it. */
export const nesting = {
  get depth(): number {
    return callDepth;
  },
  enter(): void {
    callDepth++;
  },
  leave(): void {
    callDepth--;
  },
};

/** After a stand-in stepped aside: every record that holds its holder sees the holder as it now is. */
export function reshapeHolder(holder: object): void {
  for (const e of byFile.values()) if (e.objects.has(holder)) e.objects.set(holder, shape(holder));
}

const isClassLike = (f: Function): boolean => {
  try {
    if (/^class\b/.test(Function.prototype.toString.call(f))) return true;
  } catch {
    return true;
  }
  const p = (f as { prototype?: unknown }).prototype;
  return !!p && typeof p === 'object' && Reflect.ownKeys(p).some((k) => k !== 'constructor');
};

/**
 * Wraps the top-level functions of a package file the app loaded itself: those on its exports
 * (dayjs.extend) and, for exports that cannot be changed (an ES module's namespace), those on its
 * exported functions (marked.marked.use). Classes are left alone (their identity is their instances'
 * `constructor`).
 */
function wrapFunctions(file: string, exports: unknown): void {
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return;
  const holders: Array<[object, string[]]> = [];
  const writable = (o: object, k: string) => {
    const d = Object.getOwnPropertyDescriptor(o, k);
    return !!d && 'value' in d && d.writable && d.configurable;
  };
  const candidates = (o: object) => Object.getOwnPropertyNames(o).filter((k) => k !== 'prototype' && k !== 'constructor' && k !== 'caller' && k !== 'arguments' && typeof Object.getOwnPropertyDescriptor(o, k)?.value === 'function');
  const top = candidates(exports);
  // A configurable singleton, an instance of the package's class (Handlebars, mime@1): its
  // prototype's methods get own stand-ins on the instance, hidden from its fingerprint.
  const proto = Object.getPrototypeOf(exports);
  if (typeof exports === 'object' && proto !== null && proto !== Object.prototype && !types.isModuleNamespaceObject(exports)) {
    const keys = new Set<string>();
    for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      for (const k of candidates(p)) if (!Object.prototype.hasOwnProperty.call(exports, k)) keys.add(k);
    }
    if (keys.size <= MAX_WRAPPED) {
      for (const key of keys) {
        const orig = (exports as Record<string, Function>)[key];
        if (!isClassLike(orig)) install(file, exports, [], key, orig, true);
      }
    }
  }
  if (top.some((k) => writable(exports, k))) holders.push([exports, []]);
  else {
    for (const k of top) {
      const f: Function = (exports as Record<string, Function>)[k];
      if (!isClassLike(f) && f !== exports) holders.push([f, [k]]);
    }
  }
  for (const [holder, holderPath] of holders) {
    const keys = candidates(holder).filter((k) => writable(holder, k));
    if (keys.length > MAX_WRAPPED) continue;
    for (const key of keys) {
      const orig = (holder as Record<string, Function>)[key];
      if (orig === exports || orig === holder || wrapped.has(orig) || isClassLike(orig)) continue;
      install(file, holder, holderPath, key, orig, false);
    }
  }
}

function install(file: string, holder: object, holderPath: string[], key: string, orig: Function, shadow: boolean): void {
  const w: Wrapped = { file, orig, holder, holderPath, key, checks: CHECKS, logged: 0, shadow, name: `${packageName(file)}${[...holderPath, key].map((k) => `.${k}`).join('')}` };
  const stand = new Proxy(orig, { apply: (target, self, args) => onCall(w, target, self, args) });
  wrapped.set(stand, w);
  if (!standIns.has(orig)) standIns.set(orig, stand);
  const d = shadow ? { writable: true, configurable: true, enumerable: false } : Object.getOwnPropertyDescriptor(holder, key);
  Object.defineProperty(holder, key, { ...d, value: stand });
}

/** Whether an own property is a stand-in shadowing a prototype's method: not the package's state. */
export function isShadow(o: object, k: string | symbol): boolean {
  if (typeof k !== 'string') return false;
  const d = Object.getOwnPropertyDescriptor(o, k);
  const w = d && 'value' in d && typeof d.value === 'function' ? wrapped.get(d.value) : undefined;
  return !!w?.shadow && w.holder === o;
}
const printOf = (root: unknown) => packagePrint(root, { unwrap, skip: isShadow });

function onCall(w: Wrapped, target: Function, self: unknown, args: unknown[]): unknown {
  const entry = w.entry ?? (w.entry = byFile.get(w.file));
  if (w.checks <= 0 || callDepth > 0 || !entry || entry.tainted) return Reflect.apply(target, self, args);
  const frame = loading[loading.length - 1];
  if (frame?.pkg) {
    // A package file's top level (a locale registering itself): logged as that file's load.
    frame.touched.add(entry);
    return Reflect.apply(target, self, args);
  }
  // The files the call may change: the function's own, and those of package values among its
  // arguments (a dayjs plugin marks itself installed).
  const involved = new Set<Entry>([entry]);
  for (const a of args) {
    const e = a !== null && (typeof a === 'object' || typeof a === 'function') ? byExports.get(a) : undefined;
    if (e) involved.add(e);
  }
  const before = [...involved].filter((e) => difference(e, e.exports, 'exports'));
  callDepth++;
  let result: unknown;
  try {
    result = Reflect.apply(target, self, args);
  } finally {
    callDepth--;
    try {
      afterCall(w, self, args, involved, before);
    } catch {
      /* recording must never break the app's call */
    }
  }
  return result;
}

function afterCall(w: Wrapped, self: unknown, args: unknown[], involved: Set<Entry>, before: Entry[]): void {
  const changed = [...involved].filter((e) => difference(e, e.exports, 'exports'));
  if (changed.length === 0) {
    if (--w.checks <= 0) {
      // A plain function: its stand-in steps aside (holders that copied it keep a pass-through).
      const d = Object.getOwnPropertyDescriptor(w.holder, w.key);
      if (d && 'value' in d && wrapped.get(d.value)?.orig === w.orig) {
        if (w.shadow) delete (w.holder as Record<string, unknown>)[w.key];
        else Object.defineProperty(w.holder, w.key, { ...d, value: w.orig });
        // Every record that holds the holder sees it as it now is (a locale is also dayjs's).
        reshapeHolder(w.holder);
      }
    }
    return;
  }
  w.checks = CHECKS;
  // Changed before the call already, by something not in the log: the call cannot explain it.
  if (before.length) return;
  const selfPath = self === w.holder ? w.holderPath : self === undefined || self === globalThis ? null : undefined;
  if (selfPath === undefined) {
    for (const e of changed) e.tainted ??= `${w.name}() was called on an object other than its package's, which a worker could not call it on`;
    return;
  }
  if (++w.logged > MAX_LOGGED) {
    for (const e of changed) e.tainted ??= `${w.name}() changes the package's state at every call: that state is not a configuration a worker can replay`;
    return;
  }
  const argShapes = new Map<object, unknown[]>();
  for (const a of args) walk(a, (o, _label, sh) => void argShapes.set(o, sh));
  log.push({ call: w.entry!.spec, path: [...w.holderPath, w.key], self: selfPath, args: [...args], argShapes, name: w.name, affects: changed });
  rebaseline(changed);
}

function afterLoad(frame: Frame, ok: boolean): void {
  const changed = [...frame.touched].filter((e) => difference(e, e.exports, 'exports'));
  if (!changed.length) return;
  const spec = specOf(frame.file);
  if (!ok || !frame.pkg) {
    for (const e of changed) e.tainted ??= `loading ${spec} changed it and failed`;
    return;
  }
  // A package file loaded by another package is replayed through the file the app loaded.
  const outer = loading[loading.length - 1];
  if (outer?.pkg) {
    for (const e of changed) outer.touched.add(e);
    return;
  }
  log.push({ load: spec, affects: changed });
  rebaseline(changed);
}

/** After a logged step: the new state is what a worker's copy must show, fingerprinted now. */
function rebaseline(changed: Entry[]): void {
  for (const e of changed) {
    baseline(e);
    e.print = printOf(e.exports);
  }
  built = undefined;
}

/** What a capture ships with a package member: the log, to be applied on the worker's copies. */
export interface PackageSetup {
  gen: string;
  events: Array<{ load: string } | { call: string; path: string[]; self: string[] | null; args: unknown[] } | { dropped: true }>;
  /** The fingerprint of each file the log changed, after the whole log, and the last step that changed it. */
  prints: Array<[string, string, number]>;
  /** Last, so that a record decoded inside the setup's own arguments sees it incomplete. */
  done: true;
}
let built: PackageSetup | undefined;

/**
 * The configuration log as a capture ships it, or undefined while the app configured nothing. The
 * records are the same objects from one capture to the next (the caller marks them as always
 * inline); what the log's arguments reach is encoded as the app's values are.
 */
export function packageSetup(): PackageSetup | undefined {
  if (!log.length) return undefined;
  if (!built) {
    // Each file the log changed, with the last step that changed it.
    const files = new Map<Entry, number>();
    log.forEach((ev, i) => {
      for (const e of ev.affects) files.set(e, i);
    });
    built = {
      gen,
      events: log.map((ev) => (ev.dropped ? { dropped: true as const } : 'load' in ev ? { load: ev.load } : { call: ev.call, path: ev.path, self: ev.self, args: ev.args })),
      // A refused file's copy is not compared: the server does not ship its members by name.
      prints: [...files].filter(([e]) => !e.tainted).map(([e, last]) => [e.spec, (e.print ??= printOf(e.exports)), last] as [string, string, number]),
      done: true,
    };
  }
  return built;
}

/**
 * Drops the steps that can no longer be replayed as they were made — a configuration call whose
 * arguments were changed after it (the package may hold them), a step on a file refused since —
 * and refuses the files they changed, until nothing more changes. The other files' steps stay.
 */
function dropUnreplayable(): void {
  for (let again = true; again; ) {
    again = false;
    for (const ev of log) {
      if (ev.dropped) continue;
      let why: string | undefined;
      if ('call' in ev) {
        for (const [o, base] of ev.argShapes) {
          if (!same(shape(o), base)) {
            why = `the arguments of its configuration call ${ev.name}() were changed after the call`;
            break;
          }
        }
      }
      const refused = ev.affects.find((e) => e.tainted);
      if (!why && refused) why = `a step of its configuration also changed ${packageName(refused.file)}, which cannot be replayed`;
      if (!why) continue;
      ev.dropped = why;
      for (const e of ev.affects) e.tainted ??= why;
      built = undefined;
      again = true;
    }
  }
}

/**
 * How many logged steps changed a package file so far: an instance of one of its classes built
 * after a later step would be built under a configuration its construction did not see.
 */
export function stepsChanging(file: string): number {
  const e = byFile.get(file);
  let n = 0;
  if (e) for (const ev of log) if (ev.affects.includes(e)) n++;
  return n;
}

/** The structural objects of a setup record, for the capture to mark as always inline. */
export function setupRecords(s: PackageSetup): object[] {
  return [s, s.events, s.prints, ...s.events, ...s.prints, ...s.events.flatMap((e) => ('call' in e ? [e.path, e.args, ...(e.self ? [e.self] : [])] : []))];
}

const verdicts = new Map<string, string>();

/**
 * Why a package member (`spec`, a path inside node_modules, then `memberPath` inside its exports)
 * cannot travel by name, or undefined. What the member reaches is compared with the file's
 * baseline (its state at load, moved by every logged configuration); a difference, once seen,
 * stays.
 */
export function packageDrift(spec: string, memberPath: string[] | undefined, member: unknown): string | undefined {
  const file = findLoaded(spec);
  if (!file) {
    // Loaded before the hook (a dependency the agent itself loaded first), or not through require.
    if (isLoaded(spec)) return `the package file ${spec} loaded before its state could be recorded, so a difference from a pristine copy cannot be ruled out`;
    return undefined;
  }
  const key = `${file}\0${(memberPath ?? []).join('.')}`;
  const known = verdicts.get(key);
  if (known) return known;
  dropUnreplayable();
  const e = byFile.get(file)!;
  const name = packageName(file);
  const where = ['exports', ...(memberPath ?? [])].join('.');
  let why = e.tainted ? undefined : difference(e, member, where, true);
  const reason = e.tainted
    ? `the package ${name} was changed after it loaded (${path.basename(file)}: ${e.tainted})`
    : why
      ? `the package ${name} was changed after it loaded (${path.basename(file)}: ${why}) in a way its configuration log does not replay, and a worker would run a different copy of it`
      : undefined;
  if (!reason) return undefined;
  verdicts.set(key, reason);
  return reason;
}

function isLoaded(spec: string): boolean {
  const suffix = `${path.sep}node_modules${path.sep}${spec.split('/').join(path.sep)}`;
  const cache = (Module as unknown as { _cache: Record<string, unknown> })._cache;
  return Object.keys(cache).some((f) => f.endsWith(suffix));
}

function findLoaded(spec: string): string | undefined {
  const suffix = `${path.sep}node_modules${path.sep}${spec.split('/').join(path.sep)}`;
  for (const f of byFile.keys()) if (f.endsWith(suffix)) return f;
  return undefined;
}
