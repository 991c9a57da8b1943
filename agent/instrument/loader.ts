import Module from 'node:module';
import path from 'node:path';
import fs from 'node:fs';

/** Returns true when it recognised (and patched) the module. */
type Patcher = (exports: unknown, version: () => string) => boolean;

/**
 * Patches frameworks as they load: a hook on `Module._load`, which both `require()` and the ESM
 * loader's CommonJS translator go through (Express is CommonJS, so `import express from 'express'`
 * reaches it too). Matches by the package's own folder and reads its version from package.json.
 */
const patchers = new Map<string, Patcher>();
let onLoad: ((m: { filename: string; exports: unknown }) => void) | undefined;

/** Called after every module load, with the module (the capture's package index and package-state record use it). */
export function onAnyModuleLoad(fn: (m: { filename: string; exports: unknown }) => void): void {
  onLoad = fn;
  if (!installed) install();
}
/** Called before every module load; what it returns is called once the load ended (package-state.ts follows which file is loading). */
type Around = (m: { filename: string; exports: unknown }, filename: string) => (ok: boolean) => void;
let around: Around | undefined;
export function aroundModuleLoad(fn: Around): void {
  around = fn;
  if (!installed) install();
}
const done = new WeakSet<object>();
let installed = false;

export function onModuleLoad(name: string, patch: Patcher): void {
  patchers.set(name, patch);
  if (!installed) install();
}

function install(): void {
  installed = true;
  // Only a module actually loaded (not a cached require) changes what the capture's index knows.
  const proto = Module.prototype as unknown as { load: (filename: string) => void };
  const origModuleLoad = proto.load;
  proto.load = function load(this: { filename: string; exports: unknown }, filename: string) {
    // One patch for every hook, so that the app's stack traces gain one frame, as without them.
    const after = around?.(this, filename);
    let ok = false;
    try {
      origModuleLoad.call(this, filename);
      ok = true;
    } finally {
      after?.(ok);
    }
    onLoad?.(this);
  };
  const M = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown; _resolveFilename: (r: string, p: unknown) => string };
  const orig = M._load;
  M._load = function load(request: string, parent: unknown, isMain: boolean) {
    const exports = orig.call(this, request, parent, isMain);
    try {
      if (exports && (typeof exports === 'object' || typeof exports === 'function') && !done.has(exports as object)) {
        // Marked only once recognised: a module caught half-loaded in a require cycle is probed again.
        for (const patch of patchers.values()) {
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
