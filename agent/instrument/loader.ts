import Module from 'node:module';
import path from 'node:path';
import fs from 'node:fs';

/** Returns true when it recognised (and patched) the module. */
type Patcher = (exports: unknown, version: () => string) => boolean;
type LoadListener = (m: { filename: string; exports: unknown }) => void;
/** Called before a module load; what it returns is called once the load ended. */
type Around = (m: { filename: string; exports: unknown }, filename: string) => (ok: boolean) => void;

/**
 * Patches frameworks as they load: a hook on `Module._load`, which both `require()` and the ESM
 * loader's CommonJS translator go through (Express is CommonJS, so `import express from 'express'`
 * reaches it too). A patcher recognises its framework by the module's exports (its shape), not by
 * the package's name or folder, and is given the version from the nearest package.json above the
 * resolved file. Any number of subscribers; each call returns its own removal, and the hooks come
 * off `Module` once nothing subscribes.
 */
const patchers = new Set<Patcher>();
const listeners = new Set<LoadListener>();
const arounds = new Set<Around>();
const done = new WeakSet<object>();

/** Called after every module load, with the module (the capture's package index and package-state record use it). */
export function onAnyModuleLoad(fn: LoadListener): () => void {
  listeners.add(fn);
  install();
  return () => {
    listeners.delete(fn);
    uninstallIfUnused();
  };
}

/** Called before every module load; what it returns is called once the load ended (package-state.ts follows which file is loading). */
export function aroundModuleLoad(fn: Around): () => void {
  arounds.add(fn);
  install();
  return () => {
    arounds.delete(fn);
    uninstallIfUnused();
  };
}

/** `patch` sees every module `require` returns until it recognises one; `name` is for diagnostics. */
export function onModuleLoad(name: string, patch: Patcher): () => void {
  const p: Patcher = Object.defineProperty((exports, version) => patch(exports, version), 'name', { value: name });
  patchers.add(p);
  install();
  return () => {
    patchers.delete(p);
    uninstallIfUnused();
  };
}

type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;
const M = Module as unknown as { _load: Loader; _resolveFilename: (r: string, p: unknown) => string };
const proto = Module.prototype as unknown as { load: (filename: string) => void };
let hooks: { load: typeof proto.load; origLoad: typeof proto.load; _load: Loader; orig_load: Loader } | undefined;

function install(): void {
  if (hooks) {
    // Half restored earlier (another tool had wrapped the other hook): put ours back where it came off.
    if (proto.load === hooks.origLoad) proto.load = hooks.load;
    if (M._load === hooks.orig_load) M._load = hooks._load;
    return;
  }
  const origLoad = proto.load;
  // Only a module actually loaded (not a cached require) changes what the capture's index knows.
  const load = function load(this: { filename: string; exports: unknown }, filename: string) {
    // One patch for every hook, so that the app's stack traces gain one frame, as without them.
    const afters = arounds.size ? [...arounds].map((fn) => fn(this, filename)) : undefined;
    let ok = false;
    try {
      origLoad.call(this, filename);
      ok = true;
    } finally {
      if (afters) for (const after of afters) after(ok);
    }
    for (const fn of listeners) fn(this);
  };
  const orig_load = M._load;
  const _load: Loader = function load(this: unknown, request, parent, isMain) {
    const exports = orig_load.call(this, request, parent, isMain);
    try {
      if (patchers.size && exports && (typeof exports === 'object' || typeof exports === 'function') && !done.has(exports as object)) {
        // Marked only once recognised: a module caught half-loaded in a require cycle is probed again.
        for (const patch of patchers) {
          if (patch(exports, () => versionOf(M._resolveFilename(request, parent)))) {
            done.add(exports as object);
            break;
          }
        }
      }
    } catch {
      /* instrumentation must never break the app's require */
    }
    return exports;
  };
  proto.load = load;
  M._load = _load;
  hooks = { load, origLoad, _load, orig_load };
}

function uninstallIfUnused(): void {
  if (!hooks || patchers.size || listeners.size || arounds.size) return;
  // Another tool may have wrapped Module after us: its wrapper then still calls ours, which with no
  // subscriber passes straight through; restoring under it would drop that tool's hook.
  if (proto.load === hooks.load) proto.load = hooks.origLoad;
  if (M._load === hooks._load) M._load = hooks.orig_load;
  if (proto.load === hooks.origLoad && M._load === hooks.orig_load) hooks = undefined;
}

function versionOf(file: string): string {
  let dir = path.dirname(file);
  for (let i = 0; i < 4; i++) {
    const pj = path.join(dir, 'package.json');
    try {
      const j = JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string; version?: string };
      if (j.version && j.name) return j.version;
    } catch {
      /* keep climbing */
    }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}
