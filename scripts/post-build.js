'use strict';
// tsc copies no non-TypeScript assets: the ESM entry points and the dashboard's static files are
// copied here so that dist/ is self-contained.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const copies = [
  ['agent/register.mjs', 'dist/agent/register.mjs'],
];
for (const [from, to] of copies) {
  const src = path.join(root, from);
  if (!fs.existsSync(src)) continue;
  fs.mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
  fs.copyFileSync(src, path.join(root, to));
}
const binFile = path.join(root, 'dist/bin/beehive.js');
if (fs.existsSync(binFile)) fs.chmodSync(binFile, 0o755);
