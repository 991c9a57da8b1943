import { packagePrint } from '../protocol';
import { WorkerErrors } from './errors';

/**
 * The server's configuration of its packages, replayed on this worker's copies (DESIGN.md §4a):
 * the log of package files the app loaded and configuration calls it made (`marked.use(...)`,
 * `dayjs.extend(utc)`), shipped with every package member a closure carries. A warm worker applies
 * each step once, in the server's order, and then compares a fingerprint of every file the log
 * changed with the server's. A copy that does not match, or that another server's log configured,
 * cannot be made right again (a step cannot be undone): from then on this worker refuses any
 * closure that carries the log, and those requests run on the server.
 */
interface Setup {
  gen: string;
  events: Array<{ load?: string; call?: string; path?: string[]; self?: string[] | null; args?: unknown[]; dropped?: boolean }>;
  prints: Array<[string, string, number]>;
  done?: boolean;
}

const state: { gen?: string; applied: Array<{ key: string; fns: Function[] }>; broken?: string } = { applied: [] };
/** Setup records already handled by this decode (each closure decodes its own copy). */
const handled = new WeakSet<object>();

export function applyPackageSetup(setup: unknown, load: (spec: string) => unknown): void {
  if (setup === null || typeof setup !== 'object' || handled.has(setup)) return;
  const s = setup as Setup;
  // A package record inside the setup's own arguments (a plugin) is decoded before the setup is
  // complete; the setup is applied once it is, by the record that carries it.
  if (s.done !== true) return;
  handled.add(setup);
  if (state.broken) throw WorkerErrors.UNSUPPORTED(state.broken);
  if (typeof s.gen !== 'string' || !Array.isArray(s.events) || !Array.isArray(s.prints)) throw WorkerErrors.BAD_EVENT('malformed package setup');
  if (state.gen !== undefined && state.gen !== s.gen) {
    broken(`this worker's packages were configured by another server process, and a configuration cannot be undone`);
  }
  if (s.events.length < state.applied.length) broken(`the server's package configuration log is shorter than the one this worker applied`);
  for (let i = 0; i < state.applied.length; i++) {
    const ev = s.events[i];
    const done = state.applied[i];
    // A step the server dropped since (the files it changed are refused there): what it did here stays.
    if (ev?.dropped === true) continue;
    if (keyOf(ev) !== done.key) broken(`the server's package configuration step ${i + 1} differs from the one this worker applied`);
    // The app's functions a package keeps (a marked renderer) are the same closures here from one
    // invocation to the next, their captured values refilled by this decode; a different one
    // would leave the package calling a closure nothing refills.
    const fns = functionsIn(ev.args);
    if (fns.length !== done.fns.length || fns.some((f, j) => f !== done.fns[j])) broken(`a function passed to ${keyOf(ev)} is no longer the one this worker's package holds`);
  }
  if (s.events.length === state.applied.length) return;
  state.gen = s.gen;
  const first = state.applied.length;
  for (let i = state.applied.length; i < s.events.length; i++) {
    const ev = s.events[i];
    try {
      if (ev?.dropped === true) {
        // A gap: the server refuses what this step changed.
      } else if (typeof ev.load === 'string') load(ev.load);
      else if (typeof ev.call === 'string' && Array.isArray(ev.path) && Array.isArray(ev.args)) {
        const root = load(ev.call);
        const fn = at(root, ev.path);
        if (typeof fn !== 'function') throw WorkerErrors.PACKAGE_STEP(`${ev.call} ${ev.path.join('.')} is not a function here`);
        Reflect.apply(fn, ev.self ? at(root, ev.self) : undefined, ev.args);
      } else throw WorkerErrors.PACKAGE_STEP('malformed step');
    } catch (err) {
      if ((err as { code?: string }).code === WorkerErrors.UNSUPPORTED.code) throw err;
      broken(`replaying the package configuration step ${keyOf(ev)} failed: ${(err as Error).message}`);
    }
    state.applied.push({ key: keyOf(ev), fns: functionsIn(ev.args) });
  }
  // The files the steps just applied changed: the others may have run handlers here since, and a
  // package's own lazy state (a renderer's parser) is not the server's to compare.
  for (const [spec, print, last] of s.prints) {
    if (!(typeof last === 'number' && last >= first)) continue;
    let here: string;
    try {
      here = packagePrint(load(spec));
    } catch (err) {
      broken(`${spec} cannot be loaded here: ${(err as Error).message}`);
    }
    if (here! !== print) broken(`after replaying the server's configuration, ${spec} here differs from the server's copy`);
  }
}

function broken(why: string): never {
  state.broken ??= why;
  throw WorkerErrors.UNSUPPORTED(state.broken);
}

function keyOf(ev: Setup['events'][number] | undefined): string {
  if (!ev) return '(none)';
  if (ev.dropped === true) return '(dropped)';
  return typeof ev.load === 'string' ? `load ${ev.load}` : `${String(ev.call)} ${Array.isArray(ev.path) ? ev.path.join('.') : ''}()`;
}

function at(root: unknown, p: string[]): unknown {
  let v = root;
  for (const k of p) v = (v as Record<string, unknown>)?.[k];
  return v;
}

/** The functions an argument list reaches through plain objects and arrays, in order. */
function functionsIn(args: unknown, depth = 0, out: Function[] = [], seen = new Set<object>()): Function[] {
  if (args === null || typeof args !== 'object' || depth > 4 || seen.has(args)) {
    if (typeof args === 'function') out.push(args);
    return out;
  }
  seen.add(args);
  const proto = Object.getPrototypeOf(args);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return out;
  for (const k of Object.keys(args)) functionsIn((args as Record<string, unknown>)[k], depth + 1, out, seen);
  return out;
}

/**
 * An instance of a package class the app constructed, as its construction log (the server's
 * agent/capture/package-instance.ts): built here from this worker's copy of the class — `new C(...args)`,
 * then the logged calls in order — and compared with the server's fingerprint. A copy that does
 * not match refuses the invocation (it runs on the server).
 */
export interface InstanceView {
  inst: object;
  name: string;
  /** The instance's own properties and those of the objects it holds, right after it was built. */
  shapes: Array<[object, unknown[]]>;
}

export function buildPackageInstance(data: unknown, views: InstanceView[]): object {
  const d = data as { cls?: unknown; name?: unknown; args?: unknown; calls?: unknown; print?: unknown } | null;
  if (!d || typeof d.cls !== 'function' || typeof d.name !== 'string' || !Array.isArray(d.args) || !Array.isArray(d.calls) || typeof d.print !== 'string') {
    throw WorkerErrors.BAD_EVENT('malformed package instance record');
  }
  const cls = d.cls as new (...a: unknown[]) => object;
  let inst: object;
  try {
    inst = Reflect.construct(cls, d.args);
    for (const c of d.calls as Array<{ key?: unknown; args?: unknown }>) {
      const fn = typeof c?.key === 'string' ? (cls.prototype as Record<string, unknown>)[c.key] : undefined;
      if (typeof fn !== 'function' || !Array.isArray(c.args)) throw WorkerErrors.PACKAGE_STEP(`${d.name}: ${String(c?.key)} is not a method here`);
      Reflect.apply(fn, inst, c.args);
    }
  } catch (err) {
    throw WorkerErrors.UNSUPPORTED(`building the instance of ${d.name} failed here: ${(err as Error).message}`);
  }
  if (packagePrint(inst) !== d.print) throw WorkerErrors.UNSUPPORTED(`the instance of ${d.name} built here differs from the server's`);
  views.push({ inst, name: d.name, shapes: nearShapes(inst) });
  return inst;
}

/**
 * The first instance the handler changed, named, or undefined. Its state is the server's and
 * nothing returns a change to it, so such an invocation runs on the server instead. What the
 * package writes deeper inside it as it works (a renderer's `parser`) is its own lazy state.
 */
export function packageInstanceWrite(views: InstanceView[]): string | undefined {
  for (const v of views) {
    const now = nearShapes(v.inst);
    if (now.length !== v.shapes.length || now.some(([o, sh], i) => o !== v.shapes[i][0] || !sameShape(sh, v.shapes[i][1]))) return v.name;
  }
  return undefined;
}

function nearShapes(inst: object): Array<[object, unknown[]]> {
  const out: Array<[object, unknown[]]> = [[inst, ownShape(inst)]];
  const sh = out[0][1];
  for (let i = 1; i < sh.length; i += 2) {
    const v = sh[i];
    if (v !== null && typeof v === 'object') out.push([v, ownShape(v)]);
  }
  return out;
}

function ownShape(o: object): unknown[] {
  const out: unknown[] = [];
  for (const k of Reflect.ownKeys(o)) {
    const p = Object.getOwnPropertyDescriptor(o, k);
    if (p) out.push(k, 'value' in p ? p.value : p.get);
  }
  return out;
}

function sameShape(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}
