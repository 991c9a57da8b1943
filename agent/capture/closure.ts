import Module from 'node:module';
import type { EncodeHooks, Replacement } from '../../protocol';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { types } from 'node:util';
import { classOf, encode, isCarriedProto, isNativeCode, LRU_INLINE_ENTRIES, nodeSymbolName, refKindOf, refusalOf, type RefKind } from '../../protocol';
import { lruRecordOf } from './lru';
import { analyzeFunction, mayHavePrivateNames } from './analysis';
import { promiseState } from './inspector';
import { packageDrift, packageSetup, setupRecords } from './package-state';
import { instanceRecords, packageInstance } from './package-instance';
export { installPackageStateHook } from './package-state';
import { symbolId } from './symbols';
import type { Lease } from '../../gc';
import { CaptureErrors } from './errors';
import { mayBePg } from '../../proxy';
import { encodeFunction, functionInfo } from './function-record';
import { functionLocation, readScopes } from './inspector';
import { indexNow, originOf } from './module-index';

/** A stand-in for a module's `require`: it travels as the module's file name. */
export class RequireOf {
  constructor(readonly file: string) {}
}
/** A stand-in for `process`: the worker sees the server's `process.env` (DESIGN.md §3 step 4). */
export class ProcessView {}
/**
 * A stand-in for a CommonJS module's `module`: its names, whether it has a parent (`if
 * (!module.parent)`), and its exports by identity; the loader's internals stay here.
 */
export class ModuleView {
  constructor(readonly m: Module) {}
}

const isRequireFn = (v: unknown): v is NodeJS.Require =>
  typeof v === 'function' && (v as NodeJS.Require).cache === (Module as unknown as { _cache: unknown })._cache && typeof (v as NodeJS.Require).resolve === 'function';

const isExpressApp = (v: unknown): v is { locals: unknown; settings: unknown } =>
  typeof v === 'function' && typeof (v as { handle?: unknown }).handle === 'function' && typeof (v as { set?: unknown }).set === 'function' &&
  !!(v as { settings?: unknown }).settings && !!(v as { locals?: unknown }).locals;

/** Turns an object with native state (a pg client) into a record, now or after a control call. */
export type Packer = (o: object) => { unpacker: string } | Promise<{ unpacker: string }> | undefined;

export interface CaptureOptions {
  lease: Lease;
  /** The value a fallback fetch asked for: shipped as itself, never as a reference. */
  root?: unknown;
  /** Packageables beyond `[Symbol.for('beehive.pack')]`: the pg client and pool. */
  pack?: Packer;
  /**
   * Packs still being prepared (a control call to the proxy): the closure carries a numbered
   * placeholder and the worker asks the channel for the record when it unpacks it. The capture
   * itself stays synchronous — one consistent snapshot of the state.
   */
  deferPack?(record: Promise<{ unpacker: string }>): number;
  /** Approximate bytes to ship inline; the rest goes as remote references. */
  budget: number;
  /** Encode unplanned first (EncodeHooks.unplannedFirst): for a handler whose closures fit the budget. */
  unplannedFirst?: boolean;
  /** A capture made to be thrown away (capture/prepare.ts): an app's own packer is not called. */
  dry?: boolean;
  /** Server ids the worker fetched in earlier runs of this handler: shipped inline (refinement). */
  refined?: Set<number>;
  peekId?(o: object): number | undefined;
  /** This capture's objects to send as references whatever the budget (unless refined). */
  remoteOnly?: Set<object>;
  /**
   * Whether class `cls` may travel although its methods `members` assign captured variables: only
   * when none of them can run on the worker (a Nest controller whose route method does not reach
   * them). Without it such classes are refused.
   */
  allowMemberWrites?(cls: object, members: string[]): boolean;
  /**
   * Called for each of the app's objects shipped inline (not the capture's own records, not
   * stand-ins such as modules and packs): the invocation's read set (contention/read-set.ts).
   */
  onShipped?(o: object): void;
  /** Objects to send as references, whatever else applies (hot objects, locked at first touch). */
  asReference?(o: object): boolean;
  /**
   * Called for each function shipped with variables that code elsewhere reassigns (a module's `let`
   * another handler sets): `changed()` re-reads them and names the first whose value is no longer
   * the one shipped — the read set checks it at the commit point.
   */
  onBindings?(changed: () => string | undefined): void;
}

export interface Captured {
  bytes: Buffer;
  objects: number;
  refs: number;
  /** An unplanned first pass did not serve (past the budget, a refusal or a pack met): the stream was planned. */
  replanned?: boolean;
}

/** Encoding hooks for anything the server ships to a worker under one invocation's lease. */
/**
 * Objects the capture itself builds around the app's values (a function's captured-variable
 * record, the request snapshot): new at every capture, always inline — as references they would
 * each cost a fallback.
 */
const structural = new WeakSet<object>();
export function markStructural(...objs: unknown[]): void {
  for (const o of objs) if (o !== null && typeof o === 'object') structural.add(o);
}

/**
 * Objects a handler rarely touches but every closure would carry (Express's settings): always remote
 * references, fetched on first touch — unless refinement saw this handler touch them.
 */
const lazy = new WeakSet<object>();
export function markLazy(o: object): void {
  lazy.add(o);
}

export function serverEncodeHooks(opts: CaptureOptions): EncodeHooks {
  const refined = opts.refined;
  const isRefined = (o: object) => !!refined?.size && refined.has(opts.peekId?.(o) ?? -1);
  // Stand-ins (modules, packs, the app's view): what the worker gets is not a copy of their state.
  const standIns = new WeakSet<object>();
  const onShipped = opts.onShipped;
  const asReference = opts.asReference;
  return {
    budget: opts.budget,
    unplannedFirst: opts.unplannedFirst,
    idOf: onShipped
      ? (o) => {
          const id = opts.lease.grant(o);
          if (!structural.has(o) && !standIns.has(o)) onShipped(o);
          return id;
        }
      : (o) => opts.lease.grant(o),
    overBudget: (o, kind) => ({ ref: opts.lease.grant(o), kind }),
    mustInline: (o) => structural.has(o) || isRefined(o),
    replace: (o, unplanned) => {
      // Hot before refinement: a hot object the handler fetched before must still be locked at its touch.
      if (asReference && o !== opts.root && !structural.has(o) && asReference(o)) return { ref: opts.lease.grant(o), kind: hotKindOf(o) };
      const r =
        ((lazy.has(o) || opts.remoteOnly?.has(o)) && o !== opts.root && !isRefined(o) ? { ref: opts.lease.grant(o), kind: refKindOf(o) } : undefined) ??
        // A pack (a proxy hand-off, an app's own packer) is made only for what a planned stream ships.
        (unplanned && packable(o, opts) ? planFirst() : packFor(o, opts)) ??
        libraryFunctionRef(o, opts) ??
        replaceForWorker(o, opts, unplanned);
      // An LRUCache's record is its state: pictured for the read set like any object shipped.
      if (r && 'custom' in r && r.custom !== 'lru') standIns.add(o);
      return r;
    },
    symbolId,
    symbolName: nodeSymbolName,
  };
}

/**
 * A hot object's reference: fetched whole under its lock at first touch. A small LRUCache too (its
 * copy's methods bound to it); a large one is served a key at a time (its reads then take the lock).
 */
function hotKindOf(o: object): RefKind {
  const kind = refKindOf(o);
  return kind === 'lru' && (o as { size: number }).size <= LRU_INLINE_ENTRIES ? 'instance' : kind;
}

/** Thrown to an unplanned first pass that reaches something packable (it is then planned). */
const PLAN_FIRST = Symbol('plan first');

function planFirst(): never {
  throw PLAN_FIRST;
}

/** What packFor would hand to opts.pack past its first look (the packers are pg's). */
function packable(o: object, opts: CaptureOptions): boolean {
  return !!opts.pack && mayBePg(o);
}

function packFor(o: object, opts: CaptureOptions): Replacement | undefined {
  if (!opts.pack) return undefined;
  const r = opts.pack(o);
  if (!r) return undefined;
  if (typeof (r as Promise<unknown>).then === 'function') {
    if (!opts.deferPack) throw CaptureErrors.UNSUPPORTED('an asynchronous pack outside an invocation');
    return { custom: 'pack', data: { unpacker: 'deferred', pack: opts.deferPack(r as Promise<{ unpacker: string }>) } };
  }
  return { custom: 'pack', data: r };
}

/** BeeHive's own code (the agent's hooks a framework holds): never shipped as code. */
const OWN_CODE = pathToFileURL(path.resolve(__dirname, '../..') + path.sep).href;

/** Functions of node_modules packages that are not reachable as module members. */
const libraryFn = new WeakMap<Function, boolean>();

/**
 * A package's internal function (an Express setting's `etag fn`, a logger's closure) travels as a
 * remote reference: most handlers never call it, and its code would drag the package's internals
 * along. Called on the worker, it is fetched then, as code.
 */
function libraryFunctionRef(o: object, opts: CaptureOptions): Replacement | undefined {
  if (typeof o !== 'function' || o === opts.root || originOf(o)) return undefined;
  let lib = libraryFn.get(o);
  if (lib === undefined) {
    const url = functionLocation(o)?.url ?? '';
    lib = url.includes('/node_modules/') || url.startsWith(OWN_CODE);
    libraryFn.set(o, lib);
  }
  return lib ? { ref: opts.lease.grant(o), kind: refKindOf(o) } : undefined;
}

function replaceForWorker(o: object, opts: CaptureOptions, unplanned = false): Replacement | undefined {
  if (o instanceof RequireOf) {
    // A package the handler requires itself runs configured as the server's, like one it reaches.
    const setup = packageSetup();
    if (!setup) return { custom: 'require', data: o.file };
    const data = { file: o.file, setup };
    markStructural(data, ...setupRecords(setup));
    return { custom: 'require', data };
  }
  if (o instanceof ProcessView) return { custom: 'process', data: { env: { ...process.env } } };
  if (o instanceof Untravelled) return { custom: 'untravelled', data: { name: o.name, reason: o.reason, callable: o.callable } };
  if (o instanceof ModuleView) {
    const m = o.m;
    const parent = m.parent ? { id: m.parent.id, filename: m.parent.filename } : m.parent;
    return { custom: 'cjs-module', data: { id: m.id, filename: m.filename, path: m.path, loaded: m.loaded, parent, exports: m.exports } };
  }
  const origin = originOf(o);
  if (origin) {
    if (origin.custom === 'module') {
      const drift = packageDrift(origin.data.spec, origin.data.path, o);
      if (drift) throw CaptureErrors.PACKAGE_STATE(drift);
      // The app's configuration of its packages, replayed on the worker's copies first.
      const setup = origin.data.spec.startsWith('node:') || origin.data.spec === 'beehive' ? undefined : packageSetup();
      if (setup) {
        const data = { ...origin.data, setup };
        markStructural(data, ...setupRecords(setup));
        return { custom: 'module', data };
      }
    }
    return origin;
  }
  if (isExpressApp(o)) {
    // The app itself stays on the server: the worker gets its view of it, settings and locals.
    markLazy(o.settings as object);
    return { custom: 'express-app', data: { locals: o.locals, settings: o.settings } };
  }
  const pack = (o as Record<symbol, unknown>)[Symbol.for('beehive.pack')];
  if (typeof pack === 'function' && typeof o === 'object') {
    if (unplanned) planFirst();
    if (opts.dry) return { custom: 'pack', data: { unpacker: 'none' } };
    const rec = (pack as () => { unpacker: string; record: unknown }).call(o);
    if (!rec || typeof rec.unpacker !== 'string') throw CaptureErrors.UNSUPPORTED(`[Symbol.for('beehive.pack')]() of ${o.constructor?.name} did not return { unpacker, record }`);
    return { custom: 'pack', data: rec };
  }
  if (typeof o === 'function') return functionRecord(o, opts);
  // Entries no copy can list, a settlement still to come: left on the server, the worker's reads
  // of them answered there (and checked at the commit), its writes applied at the commit.
  if (types.isWeakMap(o) || types.isWeakSet(o)) return { ref: opts.lease.grant(o), kind: refKindOf(o) };
  if (types.isPromise(o)) return settledPromise(o) ?? pendingPromiseRef(o, opts);
  const proto = Object.getPrototypeOf(o);
  if (proto === Object.prototype || proto === null || proto === Array.prototype) return undefined;
  // An instance of a package class the app constructed: its construction log, rebuilt on the worker.
  const inst = packageInstance(o);
  if (inst) {
    if ('refused' in inst) throw CaptureErrors.PACKAGE_STATE(inst.refused);
    markStructural(...instanceRecords(inst.record));
    return { custom: 'package-instance', data: inst.record };
  }
  const lru = lruRecordOf(o, classOf(proto), o !== opts.root);
  if (lru === 'remote') return { ref: opts.lease.grant(o), kind: 'lru' };
  if (lru) {
    // Built for this capture: inline, and not state of their own (the cache's picture covers them).
    markStructural(lru, lru.options, lru.props, lru.entries);
    for (const pair of lru.entries) markStructural(pair, pair[1]);
    return { custom: 'lru', data: lru };
  }
  const why = classRefusal(proto);
  // A Node class holds its state outside its properties; a class with private names, in them.
  if (why) throw (nodeClassVerdicts.has(proto) ? CaptureErrors.UNSUPPORTED : CaptureErrors.PRIVATE)(why);
  const hidden = byNameSymbolState(o, proto);
  if (hidden) throw CaptureErrors.UNSUPPORTED(hidden);
  noteArrowFields(o);
  noteHomes(o);
  return undefined;
}

function functionRecord(o: Function, opts: CaptureOptions): Replacement {
  if (isRequireFn(o)) throw CaptureErrors.UNSUPPORTED('a require function reached through data');
  const info = functionInfo(o);
  if (info.reason) throw CaptureErrors.UNSUPPORTED(info.reason);
  for (const w of info.memberWrites ?? []) {
    if (!opts.allowMemberWrites?.(o, w.members)) {
      throw CaptureErrors.UNSUPPORTED(`assigns the captured variable '${w.name}' in ${w.members.join(', ')}${w.at ? ` (${w.at})` : ''}: its new value could not be written back`);
    }
  }
  const a = info.analysis;
  const at = info.file ? ` (${info.file}:${(info.location?.line ?? 0) + 1})` : '';
  if (a.needsHome) {
    // A method using super or #private works only as part of its class: it travels as a member of it.
    const home = homes.get(o);
    if (!home) throw CaptureErrors.UNSUPPORTED(`the method ${a.name ?? '(anonymous)'}${at} uses ${a.needsHome === 'super' ? 'super' : 'a private name'} and was reached apart from its class`);
    // Its class travels whole, with what its other methods capture: what this method does not
    // read itself and cannot travel stays behind as a stand-in that fails if touched.
    const needs = homeNeeds.get(home.cls) ?? new Set<string>();
    for (const v of a.freeVars) needs.add(v.name);
    homeNeeds.set(home.cls, needs);
    return { custom: 'member', data: home };
  }
  let self: unknown;
  if (a.arrowThis) {
    if (!arrowOwners.has(o)) throw CaptureErrors.UNSUPPORTED(`the arrow function ${a.name ?? a.fieldOf ?? '(anonymous)'}${at} uses \`this\` and was reached apart from the object it was created for`);
    self = arrowOwners.get(o);
  }
  const enc = encodeFunction(o, info, self);
  const data = enc.data as { vars: Record<string, unknown>; proto?: object };
  const vars = data.vars;
  if (info.volatile.size && opts.onBindings) {
    const shipped = [...info.volatile].map((k) => [k, vars[k]] as const);
    opts.onBindings(() => {
      const now = new Map<string, unknown>();
      for (const sc of readScopes(o, info.volatile)) for (const [k, v] of sc.values) if (!now.has(k)) now.set(k, v);
      const moved = shipped.find(([k, v]) => !Object.is(now.get(k), v));
      return moved && `the variable '${moved[0]}' of ${info.analysis.name ?? 'a function'}${info.file ? ` (${info.file})` : ''}`;
    });
  }
  const needs = homeNeeds.get(o);
  if (needs) {
    for (const [k, v] of Object.entries(vars)) {
      if (needs.has(k)) continue;
      const why = shallowRefusal(v);
      if (why) vars[k] = new Untravelled(k, why, typeof v === 'function');
    }
  }
  markStructural(enc.data, vars, data.proto);
  for (const [k, v] of Object.entries(vars)) {
    if (k === 'require' && isRequireFn(v)) vars[k] = new RequireOf(info.file ?? '');
    else if (k === 'module' && v instanceof Module) vars[k] = new ModuleView(v);
  }
  if (info.globals.includes('process')) vars.process = new ProcessView();
  return { fn: enc };
}

/**
 * A class-field arrow function's `this` is the instance whose construction created it: an arrow
 * that is the initial value of field `k` of its class, found as the own property `k` of an instance
 * of that class, belongs to that instance. (The inspector does not list an arrow's `this`.)
 */
const arrowOwners = new WeakMap<Function, object>();
/** Functions already found not to be class-field arrows using `this`: skipped at every later capture. */
const notArrowField = new WeakSet<Function>();
function noteArrowFields(o: object): void {
  for (const k of Object.keys(o)) {
    const d = Object.getOwnPropertyDescriptor(o, k);
    const f = d && 'value' in d ? d.value : undefined;
    if (typeof f !== 'function' || arrowOwners.has(f) || notArrowField.has(f)) continue;
    // Only an arrow (no own `prototype`) whose text says `this` can be one: anything else is known
    // without parsing its script (a framework's module, on the first request that reaches it).
    if (Object.prototype.hasOwnProperty.call(f, 'prototype') || !/\bthis\b/.test(Function.prototype.toString.call(f))) {
      notArrowField.add(f);
      continue;
    }
    let info;
    try {
      info = originOf(f) || isNativeCode(f) ? undefined : functionInfo(f);
    } catch {
      info = undefined;
    }
    if (info?.analysis.arrowThis && info.analysis.fieldOf === k) arrowOwners.set(f, o);
    else notArrowField.add(f);
  }
}

/**
 * A captured variable of a class shipped as a method's home that the method does not read and that
 * cannot travel (a WeakMap another method uses): on the worker, a stand-in whose every use throws,
 * so that the invocation fails and runs locally if some path reaches it after all.
 */
export class Untravelled {
  constructor(readonly name: string, readonly reason: string, readonly callable: boolean) {}
}
const homeNeeds = new WeakMap<Function, Set<string>>();

function shallowRefusal(v: unknown): string | undefined {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return undefined;
  const why = refusalOf(v as object);
  if (why) return why;
  if (typeof v === 'object' && !types.isPromise(v)) {
    const proto = Object.getPrototypeOf(v);
    if (proto && proto !== Object.prototype && proto !== Array.prototype) return classRefusal(proto);
  }
  return undefined;
}

/** Where a method that needs its class lives: the class, and the key on its prototype or on itself. */
export interface Home {
  cls: Function;
  key: string | symbol;
  place: 'proto' | 'static';
  acc: 'value' | 'get' | 'set';
}
const homes = new WeakMap<Function, Home>();

/** Registers the methods of `o`'s class chain (and their statics) with their homes, once per prototype. */
const homesNoted = new WeakSet<object>();
export function noteHomes(o: unknown): void {
  if (o === null || typeof o !== 'object') return;
  for (let p = Object.getPrototypeOf(o); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (homesNoted.has(p)) continue;
    homesNoted.add(p);
    const cls = Object.getOwnPropertyDescriptor(p, 'constructor')?.value;
    if (typeof cls !== 'function' || cls.prototype !== p) continue;
    for (const [holder, place] of [[p, 'proto'], [cls, 'static']] as const) {
      for (const key of Reflect.ownKeys(holder)) {
        const d = Object.getOwnPropertyDescriptor(holder, key)!;
        for (const acc of ['value', 'get', 'set'] as const) {
          const f = d[acc];
          if (typeof f === 'function' && f !== cls && !homes.has(f)) homes.set(f, { cls, key, place, acc });
        }
      }
    }
  }
}

/**
 * A method that reaches its receiver only as `this.a`, `this.b`: the receiver's other properties (a
 * Nest controller's other injected services) go as references, fetched if something reaches them
 * after all — so that a value only another method needs cannot refuse this one.
 */
function leaveUnreached(fn: Function, self: unknown, out: Set<object>): void {
  if (self === null || typeof self !== 'object' || isNativeCode(fn)) return;
  let props: string[] | undefined;
  try {
    props = functionInfo(fn).analysis.thisProps;
  } catch {
    return;
  }
  if (!props) return;
  for (const k of Object.keys(self)) {
    if (props.includes(k)) continue;
    const v = (self as Record<string, unknown>)[k];
    if (v !== null && typeof v === 'object') out.add(v);
  }
}

/**
 * A framework may keep a wrapper on the prototype and hand the original method over (Nest): the
 * method's home is the class in the receiver's chain with a member of its name whose source
 * contains the method's.
 */
function noteHandlerHome(fn: Function, self: unknown): void {
  if (homes.has(fn) || self === null || typeof self !== 'object' || !fn.name) return;
  const text = Function.prototype.toString.call(fn);
  for (let p = Object.getPrototypeOf(self); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const cls = Object.getOwnPropertyDescriptor(p, 'constructor')?.value;
    if (typeof cls !== 'function' || cls.prototype !== p || !Object.prototype.hasOwnProperty.call(p, fn.name)) continue;
    if (Function.prototype.toString.call(cls).includes(text)) {
      homes.set(fn, { cls, key: fn.name, place: 'proto', acc: 'value' });
      return;
    }
  }
}

/** A settled promise travels as its outcome; a pending one as a reference the worker awaits. */
function settledPromise(p: Promise<unknown>): Replacement | undefined {
  const s = promiseState(p);
  if (s.state === 'pending') return undefined;
  return { custom: 'promise', data: { ok: s.state === 'fulfilled', v: s.value } };
}

/**
 * A pending promise stays here; the worker asks for its settlement. Run here, the handler would
 * have awaited it at once: a rejection in the time the worker takes to ask must not be an
 * unhandled one that ends the process.
 */
const handledPromises = new WeakSet<Promise<unknown>>();
function pendingPromiseRef(p: Promise<unknown>, opts: CaptureOptions): Replacement {
  // Once per promise: one captured at every request must not gather a reaction per request.
  if (!handledPromises.has(p)) {
    handledPromises.add(p);
    p.then(undefined, () => {});
  }
  return { ref: opts.lease.grant(p), kind: 'promise' };
}

/**
 * Why instances of a class chain cannot be copied, or undefined. Decided once per prototype: a class
 * (app, package or Node's own) that declares private fields or methods keeps state no copy of its
 * own properties carries.
 */
const classVerdicts = new WeakMap<object, string | null>();
/** Prototypes refused as Node's own classes (not for private names). */
const nodeClassVerdicts = new WeakSet<object>();
function classRefusal(proto: object): string | undefined {
  let v = classVerdicts.get(proto);
  if (v !== undefined) return v ?? undefined;
  v = null;
  for (let p: object | null = proto; p !== null && !isCarriedProto(p); p = Object.getPrototypeOf(p)) {
    const cls = Object.getOwnPropertyDescriptor(p, 'constructor')?.value as Function | undefined;
    if (typeof cls !== 'function' || cls.prototype !== p || isNativeCode(cls)) continue;
    const url = functionLocation(cls)?.url ?? '';
    if (url.startsWith('node:') && !NODE_CLASSES_BY_VALUE.has(cls)) {
      // Node's own classes keep their real state in handles, timers and C++ (a Timeout, a Socket).
      v = `an instance of ${cls.name || 'a class'}, a Node.js internal class (${url}) whose state is not all in its properties`;
      nodeClassVerdicts.add(proto);
      break;
    }
    let hasPrivate = false;
    try {
      const origin = originOf(cls);
      // A package's class is parsed only for this answer: when its text cannot hold a private name it
      // has none, and parsing a framework's large classes (Nest's ModuleRef, NestContainer) costs
      // hundreds of milliseconds on the first request that reaches them.
      if (origin || isLibraryFunction(cls)) hasPrivate = mayHavePrivateNames(Function.prototype.toString.call(cls)) && analyzeFunction(cls).hasPrivate;
      else hasPrivate = functionInfo(cls).analysis.hasPrivate;
    } catch {
      hasPrivate = /#[A-Za-z_$]/.test(Function.prototype.toString.call(cls));
    }
    if (hasPrivate) {
      const where = originOf(cls) ?? (isLibraryFunction(cls) ? { custom: 'module', data: { spec: libraryName(cls) } } : undefined);
      const pkg = where && where.custom === 'module' ? ` (${where.data.spec.split('/')[0]})` : '';
      const named = where && where.custom === 'module' ? where.data.path?.filter((k) => k !== 'prototype' && k !== 'constructor').pop() : undefined;
      v = `an instance of ${named ?? (cls.name || 'a class')}${pkg} has private fields or methods, which a copy on a worker cannot carry`;
      break;
    }
  }
  classVerdicts.set(proto, v);
  return v ?? undefined;
}

/**
 * An instance of a class that travels by name (a package's, Node's) runs on the worker's copy of
 * that class's code, which keys its state by its own symbols: state under a symbol private to the
 * package could not be found there.
 */
function byNameSymbolState(o: object, proto: object): string | undefined {
  const syms = Object.getOwnPropertySymbols(o);
  if (syms.length === 0) return undefined;
  let byName: Function | undefined;
  for (let p: object | null = proto; p !== null && !isCarriedProto(p); p = Object.getPrototypeOf(p)) {
    const cls = Object.getOwnPropertyDescriptor(p, 'constructor')?.value as Function | undefined;
    if (typeof cls === 'function' && (originOf(cls) || isLibraryFunction(cls))) {
      byName = cls;
      break;
    }
  }
  if (!byName) return undefined;
  for (const s of syms) {
    if (Symbol.keyFor(s) !== undefined || nodeSymbolName(s) || [...Object.getOwnPropertyNames(Symbol)].some((k) => (Symbol as unknown as Record<string, unknown>)[k] === s)) continue;
    return `an instance of ${byName.name || 'a package class'} keeps state under ${String(s)}, a symbol private to its package, which the worker's copy of the package would not find`;
  }
  return undefined;
}

/** Node classes whose instances are all in their own properties. */
const NODE_CLASSES_BY_VALUE = new Set<Function>([EventEmitter, TextEncoder]);

function isLibraryFunction(f: Function): boolean {
  const url = functionLocation(f)?.url ?? '';
  return url.includes('/node_modules/') || url.startsWith('node:');
}
function libraryName(f: Function): string {
  const url = functionLocation(f)?.url ?? '';
  const i = url.lastIndexOf('/node_modules/');
  return i >= 0 ? url.slice(i + '/node_modules/'.length) : url;
}

export function captureClosure(root: unknown, opts: CaptureOptions): Captured {
  // A Nest controller method runs on its instance: its class chain's methods know their homes (super).
  const remoteOnly = new Set<object>();
  const r = root as { self?: unknown; handler?: unknown } | null;
  if (r && typeof r === 'object') {
    noteHomes(r.self);
    if (r.self && typeof r.self === 'object') noteArrowFields(r.self);
    if (typeof r.handler === 'function') {
      noteHandlerHome(r.handler, r.self);
      leaveUnreached(r.handler, r.self, remoteOnly);
    }
  }
  const res = encode(root, serverEncodeHooks({ ...opts, remoteOnly }));
  return { bytes: res.bytes, objects: res.objects, refs: res.refs, replanned: res.replanned };
}


/**
 * Pays the one-time costs of capture (the inspector's script table, the index of built-ins and of
 * the packages loaded so far) before the first request that needs them: some 150–350 ms otherwise
 * spent on that request.
 */
export function warmUpCapture(): void {
  functionInfo(function beehiveWarmUp() {});
  indexNow();
}
