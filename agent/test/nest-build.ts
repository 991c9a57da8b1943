import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ROOT } from './harness';

export type NestTarget = 'ES2022' | 'ES2021';

/**
 * Compiles a TypeScript Nest fixture the way Nest projects build (tsc with experimentalDecorators and
 * emitDecoratorMetadata) at the given target, into test-artifacts/ (ignored), so that its requires
 * resolve the repository's node_modules. Returns the compiled entry file.
 */
export function buildNestFixture(dir: string, entry: string, target: NestTarget, tag: string): string {
  const outDir = path.join(ROOT, 'test-artifacts', `${tag}-${target.toLowerCase()}-${process.pid}`);
  fs.rmSync(outDir, { recursive: true, force: true });
  const cfgFile = path.join(dir, 'tsconfig.json');
  const cfg = ts.readConfigFile(cfgFile, ts.sys.readFile);
  if (cfg.error) throw new Error(ts.flattenDiagnosticMessageText(cfg.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, dir);
  const options: ts.CompilerOptions = { ...parsed.options, target: ts.ScriptTarget[target], outDir, rootDir: dir, sourceMap: false, declaration: false };
  const program = ts.createProgram([path.join(dir, entry)], options);
  const emitted = program.emit();
  const diags = ts.getPreEmitDiagnostics(program).concat(emitted.diagnostics);
  if (diags.length) {
    const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dir, getNewLine: () => '\n' };
    throw new Error(`tsc (${target}) failed:\n${ts.formatDiagnostics(diags, host)}`);
  }
  return path.join(outDir, entry.replace(/\.ts$/, '.js'));
}
