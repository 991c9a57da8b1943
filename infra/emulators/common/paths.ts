/**
 * Files the emulators spawn must be JavaScript. When this code runs from the TypeScript sources
 * (under vitest), the compiled twin in dist/ is used instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PackageErrors } from '../../errors';

const repoRoot = path.resolve(__dirname, '../../..');

/** The compiled `file` next to `fromDir` (a folder of this package), in place or in dist/. */
export function compiledFile(fromDir: string, file: string): string {
  const here = path.join(fromDir, file);
  if (fs.existsSync(here)) return here;
  const rel = path.relative(repoRoot, fromDir);
  const dist = path.join(repoRoot, 'dist', rel, file);
  if (fs.existsSync(dist)) return dist;
  throw PackageErrors.RUNTIME_NOT_BUILT(`${file} (looked in ${here} and ${dist})`);
}
