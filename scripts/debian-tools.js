'use strict';
// Debian tools some tests check the product's output with (yamllint for the deploy templates,
// promtool for the Prometheus exposition), found on PATH or fetched on first use so that
// `npm test` needs nothing installed beforehand:
//   - promtool: Debian's `prometheus` package is downloaded (not installed: no service starts) and
//     only its promtool binary unpacked into node_modules/.cache/beehive-tools/;
//   - yamllint: installed with apt-get (a small Python package), which needs root.
// Each throws an error saying what to install when it cannot.
//
//   node scripts/debian-tools.js promtool|yamllint   prints the tool's path
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const cacheDir = path.join(__dirname, '..', 'node_modules', '.cache', 'beehive-tools');

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const f = path.join(dir, name);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      /* next */
    }
  }
  return undefined;
}

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });

/** Runs an apt-get command, refreshing the package lists once when the package is not known yet. */
function apt(args, opts) {
  try {
    return run('apt-get', args, opts);
  } catch {
    run('apt-get', ['update', '-qq']);
    return run('apt-get', args, opts);
  }
}

function promtool() {
  const found = onPath('promtool');
  if (found) return found;
  const cached = path.join(cacheDir, 'promtool');
  if (fs.existsSync(cached)) return cached;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-promtool-'));
  try {
    apt(['download', '-qq', 'prometheus'], { cwd: work });
    const deb = fs.readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download prometheus produced no .deb');
    run('dpkg-deb', ['-x', path.join(work, deb), path.join(work, 'x')]);
    fs.mkdirSync(cacheDir, { recursive: true });
    // Copied under a private name, then renamed: test files starting at once never run half a file.
    const tmp = `${cached}.${process.pid}`;
    fs.copyFileSync(path.join(work, 'x/usr/bin/promtool'), tmp);
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, cached);
    return cached;
  } catch (err) {
    throw new Error(`promtool is needed (Debian package prometheus) and could not be fetched: ${err.message.split('\n')[0]}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function yamllint() {
  const found = onPath('yamllint');
  if (found) return found;
  try {
    if (process.getuid?.() !== 0) throw new Error('not root');
    apt(['install', '-y', '-qq', 'yamllint'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (err) {
    throw new Error(`yamllint is needed (apt-get install yamllint) and could not be installed: ${err.message.split('\n')[0]}`);
  }
  const installed = onPath('yamllint') ?? '/usr/bin/yamllint';
  if (!fs.existsSync(installed)) throw new Error('yamllint is needed (apt-get install yamllint)');
  return installed;
}

const tools = { promtool, yamllint };
module.exports = tools;

if (require.main === module) {
  const name = process.argv[2];
  if (!tools[name]) {
    process.stderr.write('usage: node scripts/debian-tools.js promtool|yamllint\n');
    process.exit(2);
  }
  process.stdout.write(tools[name]() + '\n');
}
