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
  /** The values seen at load, in walk order. */
  baseline: unknown[];
  /** Labels of the baseline's values, for the reason. */
  labels: string[];
  /** An exported function whose scopes are the module's (undefined: none to read). */
  scopeFn?: Function;
  /** The verdict once a difference was seen: it does not go back. */
  drift?: string;
}

const byFile = new Map<string, Entry>();
const MAX_DEPTH = 3;
const MAX_VALUES = 20_000;

let installed = false;
/** Records each package file's state as it finishes loading. Idempotent. */
export function installPackageStateHook(): void {
  if (installed) return;
  installed = true;
  const proto = Module.prototype as unknown as { load: (filename: string) => void };
  const orig = proto.load;
  proto.load = function load(this: { exports: unknown; filename: string }, filename: string) {
    orig.call(this, filename);
    try {
      if (filename.includes(`${path.sep}node_modules${path.sep}`)) record(filename, this.exports);
    } catch {
      /* recording must never break the app's require */
    }
  };
}

function record(file: string, exports: unknown): void {
  const scopeFn = findScopeFunction(exports);
  const { values, labels } = walk(exports, scopeFn);
  byFile.set(file, { file, exports, baseline: values, labels, scopeFn });
}

/** An exported function defined in this module: its innermost non-global scope is the module's. */
function findScopeFunction(exports: unknown): Function | undefined {
  if (typeof exports === 'function') return exports;
  if (exports === null || typeof exports !== 'object') return undefined;
  for (const k of Object.keys(exports)) {
    let v: unknown;
    try {
      const d = Object.getOwnPropertyDescriptor(exports, k);
      v = d && 'value' in d ? d.value : undefined;
    } catch {
      continue;
    }
    if (typeof v === 'function') return v as Function;
  }
  return undefined;
}

function walk(exports: unknown, scopeFn: Function | undefined): { values: unknown[]; labels: string[] } {
  const values: unknown[] = [];
  const labels: string[] = [];
  const seen = new Set<object>();
  const visit = (v: unknown, label: string, depth: number): void => {
    if (values.length >= MAX_VALUES) return;
    values.push(v);
    labels.push(label);
    if (v === null || (typeof v !== 'object' && typeof v !== 'function') || depth >= MAX_DEPTH || seen.has(v)) return;
    seen.add(v);
    let keys: Array<string | symbol>;
    try {
      keys = Reflect.ownKeys(v);
    } catch {
      return;
    }
    values.push(keys.length);
    labels.push(`${label} (its number of properties)`);
    for (const k of keys) {
      if (typeof v === 'function' && (k === 'caller' || k === 'arguments')) continue;
      let d: PropertyDescriptor | undefined;
      try {
        d = Object.getOwnPropertyDescriptor(v, k);
      } catch {
        continue;
      }
      if (!d) continue;
      const name = `${label}.${String(k)}`;
      if ('value' in d) visit(d.value, name, depth + 1);
      else {
        values.push(d.get, d.set);
        labels.push(name, name);
      }
    }
  };
  visit(exports, 'exports', 0);
  if (scopeFn) {
    let scopes: ReturnType<typeof readScopes> = [];
    try {
      scopes = readScopes(scopeFn);
    } catch {
      scopes = [];
    }
    // The outermost non-global scope of an exported function is its module's (or its bundle's IIFE).
    const mod = scopes[scopes.length - 1];
    if (mod) for (const [name, v] of [...mod.values].sort((a, b) => (a[0] < b[0] ? -1 : 1))) visit(v, `module variable ${name}`, 1);
  }
  return { values, labels };
}

/** The package directory of a file in node_modules (`…/node_modules/@scope/name`). */
function packageDir(file: string): string | undefined {
  const marker = `${path.sep}node_modules${path.sep}`;
  const i = file.lastIndexOf(marker);
  if (i < 0) return undefined;
  const rest = file.slice(i + marker.length).split(path.sep);
  const n = rest[0].startsWith('@') ? 2 : 1;
  return file.slice(0, i + marker.length) + rest.slice(0, n).join(path.sep);
}

const filesByPackage = new Map<string, Entry[]>();

/**
 * Why a package member of `spec` (a path inside node_modules) cannot travel by name, or undefined.
 * Every file of its package that the server loaded is compared with what it was at load.
 */
export function packageDrift(spec: string): string | undefined {
  const file = findLoaded(spec);
  if (!file) {
    // Loaded before the hook (a dependency the agent itself loaded first), or not through require.
    if (isLoaded(spec)) return `the package file ${spec} loaded before its state could be recorded, so a difference from a pristine copy cannot be ruled out`;
    return undefined;
  }
  const dir = packageDir(file);
  if (!dir) return undefined;
  let entries = filesByPackage.get(dir);
  if (!entries || entries.length !== countIn(dir)) {
    entries = [...byFile.values()].filter((e) => e.file.startsWith(dir + path.sep));
    filesByPackage.set(dir, entries);
  }
  for (const e of entries) {
    if (e.drift) return e.drift;
    const now = walk(e.exports, e.scopeFn);
    const at = firstDifference(e.baseline, now.values);
    if (at >= 0) {
      const label = e.labels[Math.min(at, e.labels.length - 1)] ?? now.labels[at];
      e.drift = `the package ${path.basename(dir)} was changed after it loaded (${path.relative(dir, e.file)}: ${label} differs), and a worker would run a pristine copy of it`;
      return e.drift;
    }
  }
  return undefined;
}

function countIn(dir: string): number {
  let n = 0;
  for (const f of byFile.keys()) if (f.startsWith(dir + path.sep)) n++;
  return n;
}

function firstDifference(a: unknown[], b: unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (!Object.is(a[i], b[i])) return i;
  return a.length === b.length ? -1 : n;
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
