/**
 * `beehive package lambda|openwhisk`: a deployable zip holding the worker runtime (beehive's
 * compiled worker files and the packages they require) and the app's production dependency tree
 * (native addons included), behind an `index.js` that exports Lambda's `handler` or OpenWhisk's
 * `main`. App source files are left out on purpose: the worker never loads them from disk (code
 * arrives in the closure, missing modules by code fallback from the server), so a copy could only
 * go stale and risks shipping configuration and secrets.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PackageErrors } from '../errors';
import { renderManifest } from '../openwhisk/manifest-template';
import { placeDependencies, readManifest, type PlacedPackage } from './dependencies';
import { listPackageFiles, workerRuntimeFiles } from './files';
import { stripComments } from './strip-comments';
import { writeZip, type ZipEntry } from './zip';

export type Platform = 'lambda' | 'openwhisk';
const MiB = 1024 * 1024;

/** Deployment package limits: Lambda direct upload 50 MB zipped, 250 MB unzipped; OpenWhisk 48 MB. */
export const LIMITS: Record<Platform, { zippedBytes: number; unzippedBytes: number }> = {
  lambda: { zippedBytes: 50 * MiB, unzippedBytes: 250 * MiB },
  openwhisk: { zippedBytes: 48 * MiB, unzippedBytes: Number.POSITIVE_INFINITY },
};

export interface PackageOptions {
  platform: Platform;
  /** The app folder (its package.json lists the production dependencies). */
  appDir: string;
  /** Output zip. Default `<appDir>/.beehive/<platform>.zip`. */
  out?: string;
  /** Override the platform limits (tests, private OpenWhisk deployments). */
  limits?: Partial<{ zippedBytes: number; unzippedBytes: number }>;
}

export interface PackageReport {
  platform: Platform;
  out: string;
  /** The wskdeploy manifest (OpenWhisk). */
  manifest?: string;
  files: number;
  zippedBytes: number;
  unzippedBytes: number;
  limits: { zippedBytes: number; unzippedBytes: number };
  /** Largest contributors, unzipped. */
  top: Array<{ name: string; bytes: number }>;
  nativeAddons: string[];
  warnings: string[];
}

const ENTRY: Record<Platform, { file: string; export: string }> = {
  lambda: { file: 'lambda.js', export: 'handler' },
  openwhisk: { file: 'openwhisk.js', export: 'main' },
};

export async function packageApp(opts: PackageOptions): Promise<PackageReport> {
  const appDir = path.resolve(opts.appDir);
  if (!fs.existsSync(path.join(appDir, 'package.json'))) throw PackageErrors.APP_NOT_FOUND(appDir);
  const limits = { ...LIMITS[opts.platform], ...(opts.limits ?? {}) };
  const out = path.resolve(opts.out ?? path.join(appDir, '.beehive', `${opts.platform}.zip`));
  const beehiveRoot = findBeehiveRoot(__dirname);
  const distRoot = path.join(beehiveRoot, 'dist');
  const entry = ENTRY[opts.platform];
  if (!fs.existsSync(path.join(distRoot, 'offload-worker', entry.file))) throw PackageErrors.RUNTIME_NOT_BUILT(`${path.join(distRoot, 'offload-worker', entry.file)} is missing`);

  const runtime = workerRuntimeFiles(distRoot, [`offload-worker/${entry.file}`]);
  const beehiveManifest = readManifest(beehiveRoot);
  const runtimeDeps = [...runtime.packages].filter((p) => p in (beehiveManifest.dependencies ?? {}));
  const app = readManifest(appDir);
  const placed = placeDependencies(
    [
      { from: beehiveRoot, names: runtimeDeps, required: true },
      { from: appDir, names: Object.keys(app.dependencies ?? {}), required: true },
      { from: appDir, names: Object.keys(app.optionalDependencies ?? {}), required: false },
    ],
    new Set(['beehive']),
  );

  const entries: ZipEntry[] = [];
  const sizes = new Map<string, number>();
  const add = (e: ZipEntry, size: number, group: string) => {
    entries.push(e);
    sizes.set(group, (sizes.get(group) ?? 0) + size);
  };
  const text = (p: string, s: string, group: string) => add({ path: p, mode: 0o644, data: Buffer.from(s) }, Buffer.byteLength(s), group);
  text('index.js', `'use strict';\n// BeeHive worker entry point (${opts.platform}): exports ${entry.export}.\nmodule.exports = require('./node_modules/beehive/dist/offload-worker/${entry.file}');\n`, '(entry)');
  text('package.json', JSON.stringify({ name: `${app.name ?? 'app'}-beehive-worker`, version: app.version ?? '0.0.0', private: true, main: 'index.js' }, null, 2) + '\n', '(entry)');
  text('node_modules/beehive/package.json', JSON.stringify({ name: 'beehive', version: beehiveManifest.version, private: true }, null, 2) + '\n', 'beehive (worker runtime)');
  for (const f of runtime.files) {
    const p = `node_modules/beehive/dist/${f.rel}`;
    if (!f.rel.endsWith('.js')) add({ path: p, abs: f.abs, mode: f.mode }, f.size, 'beehive (worker runtime)');
    else {
      const data = Buffer.from(stripComments(fs.readFileSync(f.abs, 'utf8')));
      add({ path: p, data, mode: f.mode }, data.length, 'beehive (worker runtime)');
    }
  }
  const nativeAddons: string[] = [];
  for (const pkg of placed) {
    for (const f of listPackageFiles(pkg.dir)) {
      const p = `${pkg.placement}/${f.rel}`;
      if (f.rel.endsWith('.node')) nativeAddons.push(p);
      add({ path: p, abs: f.abs, mode: f.mode }, f.size, groupOf(pkg));
    }
  }
  const unzippedBytes = [...sizes.values()].reduce((a, b) => a + b, 0);
  const top = [...sizes].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes).slice(0, 8);
  const tooLarge = (what: string, size: number, limit: number) =>
    PackageErrors.TOO_LARGE(`${opts.platform} artifact is ${fmt(size)} ${what}, over the ${fmt(limit)} limit (largest: ${top.slice(0, 3).map((t) => `${t.name} ${fmt(t.bytes)}`).join(', ')})`);
  // Checked before compressing: a 300 MB tree should not be zipped just to be refused.
  if (unzippedBytes > limits.unzippedBytes) throw tooLarge('unzipped', unzippedBytes, limits.unzippedBytes);
  const zippedBytes = await writeZip(out, entries);
  if (zippedBytes > limits.zippedBytes) {
    await fs.promises.rm(out, { force: true });
    throw tooLarge('zipped', zippedBytes, limits.zippedBytes);
  }
  const warnings: string[] = [];
  if (nativeAddons.length && (process.platform !== 'linux' || process.arch !== 'x64')) {
    warnings.push(`native addons were built for ${process.platform}-${process.arch}; the platform runs linux-x64 (rebuild them there, or use the container image)`);
  }
  let manifest: string | undefined;
  if (opts.platform === 'openwhisk') {
    manifest = path.join(path.dirname(out), 'manifest.yaml');
    const action = (app.name ?? 'app').replace(/^@[^/]+\//, '').replace(/[^A-Za-z0-9_-]/g, '-');
    await fs.promises.writeFile(manifest, renderManifest({ packageName: 'beehive', action: `${action}-worker`, zip: path.basename(out), memoryMB: 256, timeoutMs: 60_000, concurrency: 1 }));
  }
  return { platform: opts.platform, out, manifest, files: entries.length, zippedBytes, unzippedBytes, limits, top, nativeAddons, warnings };
}

function groupOf(pkg: PlacedPackage): string {
  // Nested copies count toward the top-level package that pulled them in.
  return pkg.placement.split('/node_modules/')[0].replace(/^node_modules\//, '');
}

/** The beehive package root: the nearest folder up from here whose package.json is named beehive. */
export function findBeehiveRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj) && readManifest(dir).name === 'beehive') return dir;
    if (path.dirname(dir) === dir) throw PackageErrors.RUNTIME_NOT_BUILT(`no beehive package above ${from}`);
  }
}

export function fmt(bytes: number): string {
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(2)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}
