/**
 * Every error the product throws carries a stable code (protocol/errors.ts, `defineErrors`), and
 * every code is documented under docs/errors/. A plain `new Error(...)` (or TypeError, RangeError,
 * or any other built-in error) in the product's sources fails this test, unless it is deliberate
 * and listed below with the reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
/** The folders of the product. */
const FOLDERS = ['api', 'protocol', 'gc', 'offload-worker', 'agent', 'infra', 'bin', 'proxy'];
const BUILTIN_ERRORS = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError']);

/**
 * Plain errors kept on purpose: each stands in for an error of a contract the product imitates
 * (Node's, Express's, a package's, a FaaS platform's), which the app or the platform's client
 * expects as it is. `file` and a piece of the construction's text name each one.
 */
const DELIBERATE: Array<{ file: string; text: string; why: string }> = [
  { file: 'proxy/wire/socket-input.ts', text: 'write ${name}', why: "a failed write on the socket's handle, shaped as Node's own system error (code, errno, syscall), as net.Socket would emit it" },
  { file: 'offload-worker/world.ts', text: 'The "cb" argument must be of type function', why: "the worker's guarded fs imitates Node's own argument check" },
  { file: 'offload-worker/http-shims.ts', text: 'Cannot set headers after they are sent to the client', why: "Node's ERR_HTTP_HEADERS_SENT, as the handler would get it locally" },
  { file: 'offload-worker/http-shims.ts', text: 'The "listener" argument must be of type function', why: "Node's EventEmitter argument check on the recorded response" },
  { file: 'offload-worker/http-shims.ts', text: "'Not Acceptable'", why: "Express's res.format() passes this 406 error to next()" },
  { file: 'offload-worker/session-shims.ts', text: 'req.session can only be set as null or an object.', why: "express-session's own error, as the handler would get it locally" },
  { file: 'offload-worker/invocation.ts', text: 'require() takes a string', why: "the handler's require() imitates Node's TypeError" },
  { file: 'protocol/codec/decode.ts', text: 'new AggregateError([])', why: "the codec rebuilds an app's AggregateError value (data, not a failure of the product's)" },
  { file: 'infra/emulators/common/bootstrap.ts', text: 'is undefined or not exported', why: "Lambda's Runtime.HandlerNotFound, reported by errorType on the emulated wire" },
  { file: 'infra/emulators/common/bootstrap.ts', text: 'Action entrypoint', why: "OpenWhisk's own message for a missing entry point" },
  { file: 'infra/emulators/common/bootstrap.ts', text: "'rejected'", why: "the emulated runtime's report of a handler that rejected with no reason, as the platform gives it" },
  { file: 'infra/emulators/common/instance.ts', text: 'm.errorMessage', why: "the emulated runtime's init error, passed on with Lambda's errorType" },
  { file: 'infra/emulators/common/instance.ts', text: 'Runtime exited during init', why: "Lambda's Runtime.ExitError, reported by errorType" },
  { file: 'infra/emulators/common/pool.ts', text: 'init did not finish in', why: "Lambda's Runtime.InitTimeout, reported by errorType" },
];

function sources(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!['node_modules', 'test', 'fixtures', 'bench'].includes(e.name)) sources(f, out);
    } else if (/\.(ts|mts|cts)$/.test(e.name) && !/\.(test|d)\.[cm]?ts$/.test(e.name)) out.push(f);
  }
  return out;
}
const files = () => [path.join(ROOT, 'index.ts'), ...FOLDERS.flatMap((d) => sources(path.join(ROOT, d)))];
const rel = (f: string) => path.relative(ROOT, f).split(path.sep).join('/');

/** Every construction of a built-in error (`new Error(...)`, or `Error(...)` called plainly). */
function plainErrors(): Array<{ file: string; line: number; text: string }> {
  const out: Array<{ file: string; line: number; text: string }> = [];
  for (const file of files()) {
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node) => {
      if ((ts.isNewExpression(n) || ts.isCallExpression(n)) && ts.isIdentifier(n.expression) && BUILTIN_ERRORS.has(n.expression.text)) {
        out.push({ file: rel(file), line: sf.getLineAndCharacterOfPosition(n.getStart()).line + 1, text: n.getText() });
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out;
}

const isDeliberate = (e: { file: string; text: string }) => DELIBERATE.some((d) => d.file === e.file && e.text.includes(d.text));

describe('errors carry stable codes', () => {
  const found = plainErrors();

  it('the check sees the constructions it is meant to see', () => {
    // The deliberate ones are found: the scan is not blind.
    for (const d of DELIBERATE) expect(found.some((e) => e.file === d.file && e.text.includes(d.text)), `${d.file}: ${d.text}`).toBe(true);
  });

  it('no source throws a plain Error, TypeError or RangeError: each comes from a registry', () => {
    const plain = found.filter((e) => !isDeliberate(e)).map((e) => `${e.file}:${e.line}: ${e.text.slice(0, 100)}`);
    expect(plain).toEqual([]);
  });

  /** A file's code, without its comments' lines (protocol/errors.ts shows a registry in one). */
  const code = (f: string) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l)).join('\n');
  /** The registries: `defineErrors(` calls, each code spelled out in full. */
  const registries = files().filter((f) => /\bdefineErrors\(\s*'/.test(code(f)));
  const defined = registries.flatMap((f) => [...code(f).matchAll(/\[\s*'(BEEHIVE_ERR_[A-Z0-9_]+)'\s*,/g)].map((m) => ({ file: rel(f), code: m[1] })));

  it('every registry spells its codes out where it defines them (a code in a log greps to its definition)', () => {
    expect(registries.length).toBeGreaterThan(8);
    expect(defined.length).toBeGreaterThan(60);
    // The older form (a bare message, the code assembled at run time) is gone; its regex stays as the check.
    const tables = (f: string) => [...code(path.join(ROOT, f)).matchAll(/defineErrors\([^{]*\{([\s\S]*?)\n\}\)/g)].map((m) => m[1]);
    const assembled = registries.map(rel).filter((f) => tables(f).some((t) => /^\s+[A-Z][A-Z0-9_]*: ['"`]/m.test(t)));
    expect(assembled).toEqual([]);
  });

  it('every code is documented under docs/errors/, once', () => {
    const docs = fs.readdirSync(path.join(ROOT, 'docs/errors')).map((f) => fs.readFileSync(path.join(ROOT, 'docs/errors', f), 'utf8')).join('\n');
    const undocumented = defined.filter(({ code }) => !docs.includes(`\`${code}\``)).map(({ file, code }) => `${code} (${file})`);
    expect(undocumented).toEqual([]);
    const codes = defined.map((d) => d.code);
    expect(codes.filter((c, i) => codes.indexOf(c) !== i)).toEqual([]);
  });
});
