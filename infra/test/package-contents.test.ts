/**
 * What `npm pack` publishes: dist/ built by `prepare` even from a fresh clone, the license, the
 * error index, the docs every link and citation points at, the deployment templates; the FaaS SDKs
 * as optional peers, never loaded for the local platform.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-pack-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface PackResult {
  filename: string;
  files: Array<{ path: string }>;
}
const pack = (cwd: string, ...args: string[]): PackResult =>
  (JSON.parse(execFileSync('npm', ['pack', '--json', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as PackResult[])[0];

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) walk(f, out);
    else out.push(f);
  }
  return out;
}

describe('the published package', () => {
  let files: Set<string>;
  beforeAll(() => {
    files = new Set(pack(ROOT, '--dry-run', '--ignore-scripts').files.map((f) => f.path));
  });

  it('holds dist/, LICENSE, ERRORS.md, docs/ and the deployment templates', () => {
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/bin/beehive.js', 'dist/agent/register.js', 'dist/agent/register.mjs', 'LICENSE', 'ERRORS.md', 'README.md',
      'infra/aws/template.yaml', 'infra/aws/Dockerfile', 'infra/grafana/beehive.json', 'docs/deploy-aws.md', 'docs/deploy-openwhisk.md', 'docs/metrics.md']) {
      expect(files, f).toContain(f);
    }
    for (const f of walk(path.join(ROOT, 'docs'))) expect(files, f).toContain(path.relative(ROOT, f));
    expect([...files].filter((f) => /\.test\.|\/test\/|fixtures/.test(f))).toEqual([]);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.license).toBe('Apache-2.0');
    expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  });

  it('every relative link of its Markdown resolves inside the package', () => {
    const md = [...files].filter((f) => f.endsWith('.md'));
    expect(md.length).toBeGreaterThan(5);
    for (const f of md) {
      const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:|^#/.test(target)) continue;
        const resolved = path.normalize(path.join(path.dirname(f), target.split('#')[0]));
        expect(files, `${f} links ${target}`).toContain(resolved);
      }
    }
  });

  it('no published file cites a document the package lacks', () => {
    const published = [...files].filter((f) => /\.(js|d\.ts|md|yaml)$/.test(f));
    let citations = 0;
    for (const f of published) {
      const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
      for (const [cited] of text.matchAll(/(?<![\w./-])(?:[\w.-]+\/)*[A-Za-z][\w-]*\.md\b/g)) {
        // node_modules/beehive/docs/x.md is this package as installed.
        const doc = cited.replace(/^node_modules\/beehive\//, '');
        // A bare name (DESIGN.md §3) is a document of docs/ or of the package root.
        const found = files.has(doc) || files.has(`docs/${doc}`) || files.has(path.normalize(path.join(path.dirname(f), doc)));
        expect(found, `${f} cites ${doc}`).toBe(true);
        citations++;
      }
    }
    expect(citations).toBeGreaterThan(10);
  });

  it('declares the FaaS SDKs as optional peers (dev dependencies for the tests), and never loads them for the local platform', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    for (const name of ['@aws-sdk/client-lambda', 'openwhisk']) {
      expect(pkg.dependencies[name], name).toBeUndefined();
      expect(pkg.peerDependencies[name], name).toBeDefined();
      expect(pkg.peerDependenciesMeta[name], name).toEqual({ optional: true });
      expect(pkg.devDependencies[name], name).toBeDefined();
    }
    const script = `
      const agent = require('./dist/agent').start({ mode: 'manual', ratio: 0.5, admin: 'off', quiet: true });
      agent.prewarm(1).then(async () => {
        const loaded = Object.keys(require.cache).filter((k) => /node_modules\\/(@aws-sdk|openwhisk)\\//.test(k));
        console.log(JSON.stringify(loaded));
        await agent.close();
        process.exit(0);
      });`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BEEHIVE_')));
    const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('a fresh clone packs with dist/ built by prepare', () => {
    const clone = path.join(tmp, 'clone');
    execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${ROOT}`, clone], { stdio: 'ignore' });
    expect(fs.existsSync(path.join(clone, 'dist'))).toBe(false);
    // The clone's dependencies as `npm ci` would install them: this checkout's, linked.
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'));
    const r = pack(clone, '--pack-destination', tmp);
    const paths = r.files.map((f) => f.path);
    for (const f of ['dist/index.js', 'dist/bin/beehive.js', 'dist/agent/register.mjs', 'LICENSE', 'infra/aws/template.yaml']) expect(paths, f).toContain(f);
    expect(fs.existsSync(path.join(tmp, r.filename))).toBe(true);
  }, 300_000);
});
