#!/usr/bin/env node
// Runs every test file on its own (`npx vitest run FILE`), one after the other, and reports the
// files that fail alone: a test that passes only after another file has run depends on what that
// file left behind. Slow (one vitest start per file): `npm run test:alone`, not part of `npm test`.
//
//   node scripts/each-test-alone.mjs [FILE_OR_FOLDER ...]   (default: every test file vitest finds)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);

function list() {
  const r = spawnSync('npx', ['vitest', 'list', '--filesOnly', ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.exit(2);
  }
  const files = r.stdout.split('\n').map((l) => l.trim()).filter((l) => /\.test\.[cm]?[tj]s$/.test(l)).map((l) => path.relative(root, path.resolve(root, l)));
  return [...new Set(files)].sort();
}

const files = list();
const failed = [];
const t0 = Date.now();
for (const [i, file] of files.entries()) {
  const started = Date.now();
  const r = spawnSync('npx', ['vitest', 'run', file], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: '0' } });
  const s = ((Date.now() - started) / 1000).toFixed(0);
  const ok = r.status === 0;
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${String(i + 1).padStart(3)}/${files.length} ${file} (${s} s)\n`);
  if (!ok) {
    failed.push(file);
    const log = path.join(root, '.each-test-alone', file.replace(/[\\/]/g, '__') + '.log');
    fs.mkdirSync(path.dirname(log), { recursive: true });
    fs.writeFileSync(log, (r.stdout ?? '') + (r.stderr ?? ''));
    process.stdout.write(`     output: ${path.relative(root, log)}\n`);
  }
}
process.stdout.write(`\n${files.length - failed.length} of ${files.length} test files pass alone (${((Date.now() - t0) / 60000).toFixed(1)} min)\n`);
for (const f of failed) process.stdout.write(`  fails alone: ${f}\n`);
process.exit(failed.length ? 1 : 0);
