import * as acorn from 'acorn';
import { classLike, fingerprint, limits, nesting, noteStandIn, onDirectPackageLoad, packageName, reshapeHolder, same, shape, stepsChanging, walk } from './package-state';

/**
 * Instances of package classes the app constructed (`new Marked({ gfm: true })`, then `md.use(...)`),
 * DESIGN.md §4a. Such an instance cannot travel as its class plus its own properties: its state
 * holds the package's closures (marked's `parse` is an arrow bound to the instance it was made
 * for). It travels as its construction log instead — "construct class C of package P with these
 * arguments, then make these calls on it" — and the worker builds it from its own copy of P.
 *
 * - A class is replayable when its constructor does nothing but pass all its arguments to one of
 *   its own methods (`constructor(...a) { this.use(...a) }`): construction is then its fields'
 *   initialisers (which see no argument) and that call. Its prototype's methods get stand-ins.
 * - The forwarded call made by the constructor (seen on the stack) starts the instance's log, with
 *   its arguments. A later call through a stand-in is checked like a package function's: the
 *   instance's state equal to its baseline before, different after — logged with its arguments,
 *   and the baseline moves. A method whose first calls change nothing steps aside.
 * - At capture, the instance's state (two levels deep) must still be its baseline and the logged
 *   arguments as they were: anything else (a property set directly, a call through a method that
 *   stepped aside) is a change no log explains, and the instance is refused, naming its package.
 * - The worker compares a fingerprint of the instance it built with the server's, and refuses the
 *   invocation if the handler changed it (its state stays on the server; nothing would return it).
 */
interface Cls {
  cls: Function;
  /** The class in its package file's exports. */
  path: string[];
  file: string;
  /** The file as a worker names it: its path inside node_modules. */
  spec: string;
  /** The method the constructor passes its arguments to. */
  forward: string;
  name: string;
  pkg: string;
}
interface Method {
  cls: Cls;
  key: string;
  orig: Function;
  stand: Function;
  checks: number;
}
interface Call {
  key: string;
  args: unknown[];
}
interface Instance {
  cls: Cls;
  self: object;
  args: unknown[];
  calls: Call[];
  /** The configuration steps that had changed the class's package file when it was constructed. */
  steps: number;
  /** Each object met in the arguments when they were logged, with its own keys and values then. */
  argShapes: Map<object, unknown[]>;
  /** Each object the instance reached after its last logged step, with its own keys and values then. */
  objects: Map<object, unknown[]>;
  tainted?: string;
  /** The record a capture ships, while the log is unchanged. */
  record?: InstanceRecord;
}

/** What a capture ships for an instance: the worker builds it (offload-worker/package-setup.ts). */
export interface InstanceRecord {
  cls: Function;
  name: string;
  args: unknown[];
  calls: Call[];
  print: string;
  done: true;
}

const instances = new WeakMap<object, Instance>();
const classes = new WeakMap<Function, Cls>();

/** Installs stand-ins on the prototypes of the replayable classes a package file the app loaded exports. */
onDirectPackageLoad(wrapClasses);
function wrapClasses(file: string, spec: string, exports: unknown): void {
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return;
  for (const k of Object.keys(exports)) {
    // A getter is not read: a package's lazy export would load its module now, out of the app's order.
    let f: unknown;
    try {
      f = Object.getOwnPropertyDescriptor(exports, k)?.value;
    } catch {
      continue;
    }
    if (typeof f !== 'function' || classes.has(f) || !classLike(f)) continue;
    const forward = forwardOf(f);
    const proto = (f as { prototype?: unknown }).prototype;
    if (!forward || !proto || typeof proto !== 'object') continue;
    const keys = Object.getOwnPropertyNames(proto).filter((m) => {
      if (m === 'constructor') return false;
      const d = Object.getOwnPropertyDescriptor(proto, m);
      return !!d && typeof d.value === 'function' && d.writable && d.configurable;
    });
    if (!keys.includes(forward) || keys.length > limits().maxWrapped) continue;
    const c: Cls = { cls: f, path: [k], file, spec, forward, name: k, pkg: packageName(file) };
    classes.set(f, c);
    for (const key of keys) {
      const orig = (proto as Record<string, Function>)[key];
      const m: Method = { cls: c, key, orig, stand: orig, checks: limits().checks };
      m.stand = new Proxy(orig, { apply: (target, self, args) => onMethodCall(m, target, self, args) });
      noteStandIn(m.stand, orig);
      Object.defineProperty(proto, key, { ...Object.getOwnPropertyDescriptor(proto, key), value: m.stand });
    }
  }
}

/**
 * The method a class's constructor passes all its arguments to, when that is all it does: a base
 * class whose constructor is `constructor(...a) { this.m(...a); }`. Anything else (a derived
 * class, a constructor that keeps an argument) is not replayable from a call log.
 */
function forwardOf(f: Function): string | undefined {
  let src: string;
  try {
    src = Function.prototype.toString.call(f);
  } catch {
    return undefined;
  }
  if (!/^class\b/.test(src) || !/\bconstructor\s*\(\s*\.\.\./.test(src)) return undefined;
  let node: acorn.Expression;
  try {
    node = acorn.parseExpressionAt(src, 0, { ecmaVersion: 'latest' });
  } catch {
    return undefined;
  }
  if (node.type !== 'ClassExpression' || node.superClass) return undefined;
  const ctor = node.body.body.find((m): m is acorn.MethodDefinition => m.type === 'MethodDefinition' && m.kind === 'constructor');
  if (!ctor) return undefined;
  const { params, body } = ctor.value;
  const rest = params.length === 1 && params[0].type === 'RestElement' && params[0].argument.type === 'Identifier' ? params[0].argument.name : undefined;
  const stmt = body.body.length === 1 ? body.body[0] : undefined;
  const call = stmt?.type === 'ExpressionStatement' && stmt.expression.type === 'CallExpression' ? stmt.expression : undefined;
  if (!rest || !call) return undefined;
  const callee = call.callee;
  if (callee.type !== 'MemberExpression' || callee.computed || callee.object.type !== 'ThisExpression' || callee.property.type !== 'Identifier') return undefined;
  const a = call.arguments;
  if (a.length !== 1 || a[0].type !== 'SpreadElement' || a[0].argument.type !== 'Identifier' || a[0].argument.name !== rest) return undefined;
  return callee.property.name;
}

function onMethodCall(m: Method, target: Function, self: unknown, args: unknown[]): unknown {
  if (nesting.depth > 0 || self === null || typeof self !== 'object') return Reflect.apply(target, self, args);
  const inst = instances.get(self);
  if (!inst) {
    // Only the constructor's own call starts a log; an instance made before the stand-ins were
    // installed (a package's own singleton) has none, and travels as it did without one.
    if (m.key !== m.cls.forward || Object.getPrototypeOf(self) !== (m.cls.cls as { prototype: object }).prototype || !calledByConstructor(m)) return Reflect.apply(target, self, args);
    const result = checked(target, self, args);
    try {
      const created: Instance = { cls: m.cls, self, args: [...args], calls: [], steps: stepsChanging(m.cls.file), argShapes: new Map(), objects: new Map() };
      noteArgs(created, args);
      rebaseline(created);
      instances.set(self, created);
    } catch {
      /* recording must never break the app's construction */
    }
    return result;
  }
  if (inst.tainted) return Reflect.apply(target, self, args);
  const before = difference(inst);
  if (before) {
    inst.tainted = `${before} before the call ${m.cls.name}.${m.key}(), which the log does not explain`;
    return Reflect.apply(target, self, args);
  }
  let ok = false;
  try {
    const result = checked(target, self, args);
    ok = true;
    return result;
  } finally {
    try {
      afterCall(m, inst, args, ok);
    } catch {
      /* recording must never break the app's call */
    }
  }
}

function checked(target: Function, self: unknown, args: unknown[]): unknown {
  nesting.enter();
  try {
    return Reflect.apply(target, self, args);
  } finally {
    nesting.leave();
  }
}

function afterCall(m: Method, inst: Instance, args: unknown[], ok: boolean): void {
  const changed = difference(inst);
  if (!changed) {
    // A plain method: its stand-in steps aside (the constructor's method stays, to see constructions).
    if (m.key !== m.cls.forward && --m.checks <= 0) {
      const proto = (m.cls.cls as { prototype: Record<string, unknown> }).prototype;
      const d = Object.getOwnPropertyDescriptor(proto, m.key);
      if (d && d.value === m.stand) {
        Object.defineProperty(proto, m.key, { ...d, value: m.orig });
        reshapeHolder(proto);
      }
    }
    return;
  }
  m.checks = limits().checks;
  if (!ok) inst.tainted = `the call ${m.cls.name}.${m.key}() changed it and threw`;
  else if (inst.calls.length >= limits().maxLogged) inst.tainted = `${m.cls.name}.${m.key}() changes it at every call: that state is not a configuration a worker can replay`;
  if (inst.tainted) return;
  inst.calls.push({ key: m.key, args: [...args] });
  noteArgs(inst, args);
  rebaseline(inst);
}

function noteArgs(inst: Instance, args: unknown[]): void {
  for (const a of args) walk(a, (o, _label, sh) => void (inst.argShapes.has(o) || inst.argShapes.set(o, sh)));
}

function rebaseline(inst: Instance): void {
  const objects = new Map<object, unknown[]>();
  walk(inst.self, (o, _label, sh) => void objects.set(o, sh), '');
  inst.objects = objects;
  inst.record = undefined;
}

/** Where the instance differs from its baseline, or undefined. */
function difference(inst: Instance): string | undefined {
  let why: string | undefined;
  walk(
    inst.self,
    (o, label, sh) => {
      const base = inst.objects.get(o);
      if (base === undefined) return true; // new since the baseline: its holder's record differs
      if (!same(sh, base)) {
        why = label ? `its ${label.slice(1)} differs` : 'its own properties differ';
        return false;
      }
      return true;
    },
    '',
  );
  return why;
}


/** Whether the call the stand-in received comes straight from the constructor of the method's class. */
function calledByConstructor(m: Method): boolean {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder: { stack?: unknown } = {};
  try {
    Error.stackTraceLimit = 3;
    Error.prepareStackTrace = (_e, frames) => frames;
    // The frames of this module (the trap) come first; the next is the stand-in's caller.
    Error.captureStackTrace(holder, onMethodCall);
    const frames = holder.stack as NodeJS.CallSite[] | undefined;
    const f = Array.isArray(frames) ? frames.find((x) => x.getFileName() !== __filename) : undefined;
    if (!f || !f.isConstructor()) return false;
    const file = f.getFileName() ?? '';
    const name = f.getFunctionName() ?? '';
    return name === m.cls.cls.name && (file === m.cls.file || file.endsWith(m.cls.file.split('\\').join('/')));
  } catch {
    return false;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

/**
 * What a capture does with an object: `undefined` when it is not an instance this log knows (it
 * travels as before), a reason when it is one that cannot be rebuilt as it is, else its record.
 */
export function packageInstance(o: object): { record: InstanceRecord } | { refused: string } | undefined {
  const inst = instances.get(o);
  if (!inst) return undefined;
  const c = inst.cls;
  const of = `an instance of ${c.name} of the package ${c.pkg}`;
  if (inst.tainted) return { refused: `${of} was changed in a way its construction log cannot replay (${inst.tainted})` };
  const why = difference(inst);
  if (why) return { refused: `${of} was changed after it was constructed (${why}) in a way its construction log does not replay, and a worker would build a different one` };
  for (const [a, base] of inst.argShapes) {
    if (!same(shape(a), base)) return { refused: `${of} was given arguments that the app changed after the call, and a worker would build it from their new values` };
  }
  // The worker configures its copy with the whole log before it builds the instance.
  if (stepsChanging(c.file) !== inst.steps) return { refused: `${of} was constructed before a configuration call changed its package, and a worker would construct it under the newer configuration` };
  // The class travels as a package member: its own record checks that the package's state is one
  // the worker's copy can be configured to (packageDrift), and carries the configuration log.
  inst.record ??= { cls: c.cls, name: `${c.name} of the package ${c.pkg}`, args: inst.args, calls: inst.calls, print: fingerprint(inst.self), done: true };
  return { record: inst.record };
}

/** The structural objects of an instance record, for the capture to mark as always inline. */
export function instanceRecords(r: InstanceRecord): object[] {
  return [r, r.args, r.calls, ...r.calls.flatMap((c) => [c, c.args])];
}
