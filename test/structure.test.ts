/**
 * The tree's structure, checked: no import cycle in the built tree (madge over dist/), and every
 * import between top-level folders goes through the imported folder's `index.ts`, its facade. A
 * file that needs something of another folder's internals makes that folder export it instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import madge from 'madge';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
/** The folders of the product (tsconfig's include). */
const FOLDERS = ['api', 'protocol', 'gc', 'offload-worker', 'agent', 'proxy', 'infra', 'bin'];

/**
 * Imports of another folder's internals still made by files that are being changed elsewhere at
 * present: each names the file and the facade it is to use. Nothing else may join this list.
 */
const PENDING: Record<string, string> = {};

function sources(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!['node_modules', 'test', 'fixtures', 'bench'].includes(e.name)) sources(f, out);
    } else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(e.name) && !/\.(test|d)\.[cm]?[tj]s$/.test(e.name)) out.push(f);
  }
  return out;
}

/** Every module specifier of a file (parsed once): imports, exports, `import x = require()`, `require()`, `import()`, `import('x').T`. */
const parsed = new Map<string, string[]>();
function specifiers(file: string): string[] {
  let out = parsed.get(file);
  if (!out) parsed.set(file, (out = parse(file)));
  return out;
}

function parse(file: string): string[] {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (n: ts.Node) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) out.push(n.moduleSpecifier.text);
    else if (ts.isExternalModuleReference(n) && ts.isStringLiteral(n.expression)) out.push(n.expression.text);
    else if (ts.isCallExpression(n) && n.arguments.length >= 1 && ts.isStringLiteralLike(n.arguments[0])) {
      const callee = n.expression;
      if ((ts.isIdentifier(callee) && callee.text === 'require') || callee.kind === ts.SyntaxKind.ImportKeyword) out.push(n.arguments[0].text);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) out.push(n.argument.literal.text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const topOf = (rel: string): string => (rel.includes('/') ? rel.split('/')[0] : '(root)');

/** `from -> target` for every relative import of the product's sources, target without extension. */
function imports(): Array<{ from: string; target: string; spec: string }> {
  const files = [path.join(ROOT, 'index.ts'), ...FOLDERS.flatMap((d) => sources(path.join(ROOT, d)))];
  const out: Array<{ from: string; target: string; spec: string }> = [];
  for (const file of files) {
    const from = path.relative(ROOT, file).split(path.sep).join('/');
    for (const spec of specifiers(file)) {
      if (!spec.startsWith('.')) continue;
      const target = path.relative(ROOT, path.resolve(path.dirname(file), spec)).split(path.sep).join('/').replace(/\.(js|ts|mjs|cjs)$/, '');
      out.push({ from, target, spec });
    }
  }
  return out;
}

/** The imports of a file into another top-level folder. */
const crossings = () => imports().filter(({ from, target }) => topOf(target) !== topOf(from) || topOf(from) === '(root)');

/**
 * Folders inside a top-level folder that have a facade of their own: the rest of the tree reaches
 * them only through their `index.ts`, as it does the top-level folders.
 */
const INNER_FACADES = ['agent/offload'];

/** The server half of the offload: its steps in lifecycle order (DESIGN.md §3), each file's number its step. */
const OFFLOAD = 'agent/offload';
const OFFLOAD_STEPS = ['decide', 'capture', 'invoke', 'commit', 'replay', 'fail safe'];
/** Its files that belong to no one step: the facade, the walk through the steps, the types and the error codes they share. */
const OFFLOAD_UNNUMBERED = ['index.ts', 'dispatcher.ts', 'context.ts', 'errors.ts'];

/** A folder's facade: the folder itself, or its index. */
const isFacade = (target: string): boolean => /^[a-z-]+(\/index)?$/.test(target) && FOLDERS.includes(target.split('/')[0]);

describe('the structure of the tree', () => {
  let built: Awaited<ReturnType<typeof madge>>;
  beforeAll(async () => {
    expect(fs.existsSync(path.join(ROOT, 'dist/index.js')), 'npm run build first').toBe(true);
    built = await madge(path.join(ROOT, 'dist'), { fileExtensions: ['js'], excludeRegExp: [/\.d\.ts$/] });
  });

  it('the built tree has no import cycle', () => {
    expect(Object.keys(built.obj()).length).toBeGreaterThan(100);
    expect(built.circular()).toEqual([]);
  });

  it('sees the lazy requires too (a cycle through one is a cycle)', () => {
    // configure() loads the agent on first use: madge must see that edge for the check above to mean anything.
    expect(built.obj()['index.js']).toEqual(expect.arrayContaining(['agent/index.js', 'api/index.js']));
  });

  it('the worker half requires nothing of the server half', () => {
    const deps = built.obj();
    const reach = new Set<string>();
    const queue = Object.keys(deps).filter((f) => f.startsWith('offload-worker/'));
    while (queue.length) {
      const f = queue.pop()!;
      if (reach.has(f)) continue;
      reach.add(f);
      queue.push(...(deps[f] ?? []));
    }
    expect([...reach].filter((f) => !/^(api|protocol|gc|offload-worker)\//.test(f))).toEqual([]);
  });

  it('folders import each other only through their index.ts', () => {
    const all = crossings();
    expect(all.length).toBeGreaterThan(30);
    const bypasses = all.filter((c) => !isFacade(c.target) && !(`${c.from} -> ${c.target}` in PENDING)).map((c) => `${c.from} imports ${c.spec}`);
    expect(bypasses).toEqual([]);
  });

  it('folders with a facade of their own inside a top-level folder are reached only through it', () => {
    const bypasses = imports()
      .filter(({ from, target }) => INNER_FACADES.some((d) => target.startsWith(`${d}/`) && !from.startsWith(`${d}/`) && target !== `${d}/index`))
      .map((c) => `${c.from} imports ${c.spec}`);
    expect(bypasses).toEqual([]);
    // The check sees the facade's own importers, so it is not vacuous.
    expect(imports().filter(({ target }) => target === OFFLOAD || target === `${OFFLOAD}/index`).length).toBeGreaterThan(2);
  });

  it(`${OFFLOAD}/ holds its files in lifecycle order, and docs/architecture.md walks them in that order`, () => {
    const files = fs.readdirSync(path.join(ROOT, OFFLOAD)).filter((f) => f.endsWith('.ts'));
    const numbered = files.filter((f) => !OFFLOAD_UNNUMBERED.includes(f));
    const unplaced = numbered.filter((f) => !/^[1-9]-[a-z][a-z-]*\.ts$/.test(f) || Number(f[0]) > OFFLOAD_STEPS.length);
    expect(unplaced, `each file is named N-what.ts, N its step (${OFFLOAD_STEPS.map((s, i) => `${i + 1} ${s}`).join(', ')})`).toEqual([]);
    // Every step has its file.
    for (let i = 1; i <= OFFLOAD_STEPS.length; i++) expect(numbered.some((f) => f.startsWith(`${i}-`)), OFFLOAD_STEPS[i - 1]).toBe(true);
    const doc = fs.readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
    const named = [...doc.matchAll(/`agent\/offload\/([1-9])-[\w-]+\.ts`/g)].map((m) => Number(m[1]));
    for (const f of numbered) expect(doc.includes(`\`${OFFLOAD}/${f}\``), `docs/architecture.md names ${OFFLOAD}/${f}`).toBe(true);
    // The walk meets the steps in order: the first mention of each numbered file never goes back a step.
    const firsts = [...new Set([...doc.matchAll(/`agent\/offload\/([1-9]-[\w-]+\.ts)`/g)].map((m) => m[1]))].map((f) => Number(f[0]));
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    expect(named.length).toBeGreaterThanOrEqual(numbered.length);
  });

  it('the pending list holds only bypasses that still exist', () => {
    const seen = new Set(crossings().map((c) => `${c.from} -> ${c.target}`));
    for (const k of Object.keys(PENDING)) expect(seen.has(k), k).toBe(true);
  });

  it('no file imports a package by a path inside it (its dist/, lib/ or src/)', () => {
    const deep: string[] = [];
    for (const file of [path.join(ROOT, 'index.ts'), ...FOLDERS.flatMap((d) => sources(path.join(ROOT, d)))]) {
      for (const spec of specifiers(file)) if (!spec.startsWith('.') && /^(@[^/]+\/)?[^/]+\/(dist|lib|src|build)\//.test(spec)) deep.push(`${path.relative(ROOT, file)} imports ${spec}`);
    }
    expect(deep).toEqual([]);
  });

  it('bench scripts load the build through its entry points, not its internals', () => {
    const files = fs.readdirSync(path.join(ROOT, 'bench'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && /\.[cm]?js$/.test(e.name)).map((e) => path.join(e.parentPath, e.name));
    // The package's entry points (its exports and bin) and the folders' facades.
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const entries = new Set<string>();
    const collect = (v: unknown): void => {
      if (typeof v === 'string') entries.add(v.replace(/^\.\/dist\//, '').replace(/\.[cm]?js$/, ''));
      else if (v && typeof v === 'object') Object.values(v).forEach(collect);
    };
    collect(pkg.exports);
    collect(pkg.bin);
    const internals: string[] = [];
    for (const file of new Set(files)) {
      const text = fs.readFileSync(file, 'utf8');
      for (const [, p] of text.matchAll(/dist\/([\w./${}-]+?)(?:\.js)?['"`]/g)) {
        if (!entries.has(p) && !/^(index|[a-z-]+(\/index)?)$/.test(p)) internals.push(`${path.relative(ROOT, file)}: dist/${p}`);
      }
    }
    expect(internals).toEqual([]);
  });

  it('docs/architecture.md names files that exist, and every top-level folder of the product', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
    const named = [...doc.matchAll(/`((?:[a-z-]+\/)+[\w.-]+\.(?:ts|mjs))`/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(40);
    for (const f of named) expect(fs.existsSync(path.join(ROOT, f)), f).toBe(true);
    for (const d of ['api', 'agent', 'protocol', 'gc', 'offload-worker', 'proxy']) expect(named.some((f) => f.startsWith(`${d}/`)), d).toBe(true);
  });
});
