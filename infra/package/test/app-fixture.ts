/**
 * Builds a throw-away app folder for packaging tests: a package.json, a native-looking dependency
 * (a `.node` file), two versions of one package (one must nest), an optional dependency that is
 * not installed, a dev dependency that must stay out, and express linked from this repository.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repoModules = path.resolve(__dirname, '../../../node_modules');

function pkg(dir: string, manifest: object, files: Record<string, string | Buffer> = {}) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest));
  for (const [f, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), content);
  }
}

export function makeApp(): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-app-'));
  const nm = path.join(dir, 'node_modules');
  pkg(dir, {
    name: '@acme/shop',
    version: '1.2.3',
    dependencies: { express: '^5', 'fake-native': '1', other: '1' },
    optionalDependencies: { 'not-installed': '1' },
    devDependencies: { 'dev-only': '1' },
  }, { 'app.js': 'module.exports = 1;', '.env': 'SECRET=1' });
  pkg(path.join(nm, 'fake-native'), { name: 'fake-native', version: '1.0.0', main: 'index.js', dependencies: { shared: '1' } }, {
    'index.js': "module.exports = require('./build/Release/addon.node');",
    'build/Release/addon.node': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]),
    'index.d.ts': 'export {};',
  });
  pkg(path.join(nm, 'shared'), { name: 'shared', version: '1.0.0' }, { 'index.js': 'module.exports = 1;' });
  pkg(path.join(nm, 'other'), { name: 'other', version: '1.0.0', dependencies: { shared: '2' } }, { 'index.js': "module.exports = require('shared');" });
  pkg(path.join(nm, 'other', 'node_modules', 'shared'), { name: 'shared', version: '2.0.0' }, { 'index.js': 'module.exports = 2;' });
  pkg(path.join(nm, 'dev-only'), { name: 'dev-only', version: '1.0.0' }, { 'index.js': '' });
  fs.symlinkSync(path.join(repoModules, 'express'), path.join(nm, 'express'), 'dir');
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
