/**
 * The production dependency tree of a folder, as files to put under the artifact's node_modules:
 * walks `dependencies` (and installed optional and peer dependencies) transitively with Node's
 * resolution (node_modules of the folder and its ancestors), hoists each package to the top
 * unless another version holds the name, and nests it under its dependent otherwise.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PackageErrors } from '../errors';

export interface PlacedPackage {
  name: string;
  version: string;
  /** Real folder on disk. */
  dir: string;
  /** Folder inside the artifact, e.g. `node_modules/ws` or `node_modules/a/node_modules/b`. */
  placement: string;
}

interface Manifest {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export function readManifest(dir: string): Manifest {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** Node's lookup of `name` from `fromDir`: `<dir>/node_modules/<name>` up to the root. */
export function resolvePackageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Places the dependency trees of `roots` (each a set of names required from a folder).
 * `skip` names are left out (e.g. beehive itself, which the packager adds as the worker runtime).
 */
export function placeDependencies(roots: Array<{ from: string; names: string[]; required: boolean }>, skip: Set<string> = new Set()): PlacedPackage[] {
  const byPlacement = new Map<string, PlacedPackage>();
  const queue: Array<{ name: string; from: string; parentPlacement: string; required: boolean; via: string }> = [];
  for (const r of roots) for (const name of r.names) queue.push({ name, from: r.from, parentPlacement: '', required: r.required, via: r.from });

  while (queue.length) {
    const { name, from, parentPlacement, required, via } = queue.shift()!;
    if (skip.has(name)) continue;
    const dir = resolvePackageDir(name, from);
    if (!dir) {
      if (required) throw PackageErrors.DEPENDENCY_MISSING(`${name} (needed by ${via}) is not installed: run npm install`);
      continue;
    }
    const top = `node_modules/${name}`;
    const holder = byPlacement.get(top);
    // Already reachable from here: the same real folder sits at the top.
    if (holder?.dir === dir) continue;
    const placement = holder ? `${parentPlacement}/node_modules/${name}`.replace(/^\//, '') : top;
    if (byPlacement.has(placement)) continue;
    const m = readManifest(dir);
    const pkg: PlacedPackage = { name, version: m.version ?? '0.0.0', dir, placement };
    byPlacement.set(placement, pkg);
    const next = (deps: Record<string, string> | undefined, req: boolean) => {
      for (const d of Object.keys(deps ?? {})) queue.push({ name: d, from: dir, parentPlacement: placement, required: req, via: `${name}@${pkg.version}` });
    };
    next(m.dependencies, true);
    next(m.optionalDependencies, false);
    next(m.peerDependencies, false);
  }
  return [...byPlacement.values()].sort((a, b) => a.placement.localeCompare(b.placement));
}
