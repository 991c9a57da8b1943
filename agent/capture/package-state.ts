import Module from 'node:module';
import path from 'node:path';
import { readScopes } from './inspector';

/**
 * Package state (DESIGN.md §4a): a package re-required on a worker is a pristine copy, so a package
 * member may only travel by name while the server's copy is still as it was when it loaded. At load
 * every package file's state is recorded — its exports, walked a few levels deep (functions' own
 * properties and prototypes included), and its module-scope variables as the inspector lists them
 * for an exported function — and before a capture ships a member by name the same walk is compared
 * with the record. `marked.use()`, `dayjs.extend(utc)`, `require('dayjs/locale/de')`,
 * `dayjs.locale('de')` all show as a difference; the handler is then refused with where it differs.
 */
interface Entry {
  file: string;
  exports: unknown;
  /** Each object met at load, with its own keys and values then. */
  objects: Map<object, unknown[]>;
  /** The module-scope variables at load, by name. */
  scope: Map<string, unknown>;
  /** An exported function whose scopes are the module's (undefined: none to read). */
  scopeFn?: Function;
}

const byFile = new Map<string, Entry>();
const MAX_DEPTH = 2;
const MAX_OBJECTS = 2_000;

let enabled = false;
/** Starts recording package files as they load (the agent calls it before the app loads its packages). */
export function installPackageStateHook(): void {
  enabled = true;
}

/** The module loader's report of a file that finished loading (agent/instrument/loader.ts). */
export function notePackageLoad(filename: string, exports: unknown): void {
  if (!enabled || !filename.includes(`${path.sep}node_modules${path.sep}`)) return;
  try {
    record(filename, exports);
  } catch {
    /* recording must never break the app's require */
  }
}

function record(file: string, exports: unknown): void {
  // Module variables are read (through the inspector, the costly part) for a file that exports a
  // function — dayjs, a package whose state is its module's variables; an object's exports carry
  // their state in their properties.
  const scopeFn = typeof exports === 'function' ? exports : undefined;
  const objects = new Map<object, unknown[]>();
  const note = (o: object) => {
    if (!objects.has(o)) objects.set(o, shape(o));
  };
  walk(exports, note);
  const scope = moduleScope(scopeFn);
  for (const v of scope.values()) walk(v, note);
  byFile.set(file, { file, exports, objects, scope, scopeFn });
}

function moduleScope(fn: Function | undefined): Map<string, unknown> {
  if (!fn) return new Map();
  try {
    const scopes = readScopes(fn);
    // The outermost non-global scope of an exported function is its module's (or its bundle's IIFE).
    return scopes[scopes.length - 1]?.values ?? new Map();
  } catch {
    return new Map();
  }
}

/** Own keys and values (accessors as their functions), in order: what "changed" means for one object. */
function shape(o: object): unknown[] {
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
    else out.push(d.get, d.set);
  }
  return out;
}

/** Objects reachable through own properties, a few levels deep, breadth first. */
function walk(root: unknown, visit: (o: object, label: string) => boolean | void): void {
  const seen = new Set<object>();
  let level: Array<[unknown, string]> = [[root, 'exports']];
  for (let depth = 0; depth <= MAX_DEPTH && level.length; depth++) {
    const next: Array<[unknown, string]> = [];
    for (const [v, label] of level) {
      if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v) || seen.size >= MAX_OBJECTS) continue;
      seen.add(v);
      if (visit(v, label) === false) return;
      const sh = shape(v);
      for (let i = 0; i < sh.length; i += 2) if (typeof sh[i] === 'string' || typeof sh[i] === 'symbol') next.push([sh[i + 1], `${label}.${String(sh[i])}`]);
    }
    level = next;
  }
}

function same(a: unknown[], b: unknown[] | undefined): boolean {
  if (!b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** The package's name for a reason (`@nestjs/common`, `dayjs`). */
function packageName(file: string): string {
  const marker = `${path.sep}node_modules${path.sep}`;
  const rest = file.slice(file.lastIndexOf(marker) + marker.length).split(path.sep);
  return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

const verdicts = new Map<string, string>();

/**
 * Package objects whose own changes a worker does not need (Nest's `Logger` class: the app's log
 * configuration lives in its statics, and Logger calls made on a worker are replayed on the server's
 * Logger, agent/nest-logger.ts). What they reach is still compared.
 */
const driftExempt = new WeakSet<object>();
export function exemptFromPackageDrift(o: object): void {
  driftExempt.add(o);
}

/**
 * Why a package member (`spec`, a path inside node_modules, then `memberPath` inside its exports)
 * cannot travel by name, or undefined. What the member reaches through its own properties is
 * compared with the package file's record from load; for the file's exports themselves (dayjs), so
 * are the module's variables (its current locale). A difference, once seen, stays.
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
  const e = byFile.get(file)!;
  const name = packageName(file);
  const where = ['exports', ...(memberPath ?? [])].join('.');
  let why: string | undefined;
  const compare = (prefix: string) => (o: object, label: string) => {
    if (driftExempt.has(o)) return true;
    const base = e.objects.get(o);
    if (base === undefined) return true; // new since load: its holder's record differs
    if (!same(shape(o), base)) {
      why = `${prefix}${label.slice('exports'.length)} differs`;
      return false;
    }
    return true;
  };
  walk(member, compare(where));
  if (!why && member === e.exports && e.scopeFn) {
    const now = moduleScope(e.scopeFn);
    for (const [k, v] of e.scope) {
      if (!Object.is(now.get(k), v)) why = `its module variable ${k} differs`;
      else walk(v, compare(`its module variable ${k}`));
      if (why) break;
    }
  }
  if (!why) return undefined;
  const reason = `the package ${name} was changed after it loaded (${path.basename(file)}: ${why}), and a worker would run a pristine copy of it`;
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
