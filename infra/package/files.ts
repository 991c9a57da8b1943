/**
 * Which files of a package go into an artifact: everything it may load at run time (JavaScript,
 * JSON, native `.node` addons and their helpers, WASM), without nested node_modules (placed
 * separately), type declarations, source maps, Markdown documentation (READMEs, changelogs) and VCS
 * folders, which nothing loads. Licence files stay.
 */
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

export interface ListedFile {
  /** Absolute path on disk. */
  abs: string;
  /** Path inside the package folder, with forward slashes. */
  rel: string;
  size: number;
  mode: number;
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.github', '.vscode', '.idea', '.nyc_output', 'coverage']);
const SKIP_FILE = /(\.d\.[cm]?ts|\.map|\.tsbuildinfo|\.md|\.markdown)$/i;

export function listPackageFiles(root: string): ListedFile[] {
  const out: ListedFile[] = [];
  const walk = (dir: string, rel: string) => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = path.join(dir, ent.name);
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      // Symlinks are followed: the artifact holds plain files.
      const st = fs.statSync(abs, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        if (!SKIP_DIRS.has(ent.name)) walk(abs, r);
      } else if (st.isFile() && !SKIP_FILE.test(ent.name)) {
        out.push({ abs, rel: r, size: st.size, mode: st.mode & 0o777 });
      }
    }
  };
  walk(root, '');
  return out;
}

const REQUIRE = /\brequire\(\s*["']([^"']+)["']\s*\)/g;

/**
 * The worker runtime's own compiled files: from the entry, every folder reached through relative
 * requires is taken whole (helpers such as worker-thread scripts are loaded by path, not by
 * require). Returns the files and the bare package names they require.
 */
export function workerRuntimeFiles(distRoot: string, entries: string[]): { files: ListedFile[]; packages: Set<string> } {
  const wholeDirs = [path.join(distRoot, 'offload-worker') + path.sep];
  const dirs = new Set<string>();
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = entries.map((e) => path.join(distRoot, e));
  while (queue.length) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const dir = path.dirname(file);
    // The worker runtime's own folders are taken whole (scripts it loads by path, e.g. the channel
    // thread); elsewhere (api/, protocol/, gc/) only the files its requires reach. The worker
    // requires nothing of the server half (agent/, proxy/), which a test of the artifact checks.
    if (!dirs.has(dir) && wholeDirs.some((d) => (dir + path.sep).startsWith(d))) {
      dirs.add(dir);
      for (const f of fs.readdirSync(dir)) if (f.endsWith('.js')) queue.push(path.join(dir, f));
    }
    const src = fs.readFileSync(file, 'utf8');
    for (const m of src.matchAll(REQUIRE)) {
      const spec = m[1];
      if (spec.startsWith('.')) {
        const target = resolveRelative(path.resolve(dir, spec));
        if (target) queue.push(target);
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec.split('/')[0])) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
      }
    }
  }
  const files = [...seen]
    .filter((f) => f.startsWith(distRoot + path.sep))
    .sort()
    .map((abs) => ({ abs, rel: path.relative(distRoot, abs).split(path.sep).join('/'), size: fs.statSync(abs).size, mode: 0o644 }));
  return { files, packages };
}

function resolveRelative(p: string): string | undefined {
  for (const c of [p, `${p}.js`, path.join(p, 'index.js')]) {
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  }
  return undefined;
}
