'use strict';
// One run: each handler of app.js run locally (BEEHIVE_MODE=off) and offloaded to one warm local
// worker (BEEHIVE_MODE=always), sequential requests after a warm-up, client-side p50/p99. The
// session requests carry the session cookie, as a browser would.
//
//   node bench/world/latency.js [--requests 200] [--warmup 20]
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { once } = require('node:events');
const { parseArgs } = require('node:util');

const ROOT = path.join(__dirname, '../..');
const { values: a } = parseArgs({ options: { requests: { type: 'string', default: '200' }, warmup: { type: 'string', default: '20' } } });
const N = Number(a.requests);
const W = Number(a.warmup);

async function startApp(mode) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-bench-'));
  const statsFile = path.join(dir, 'stats.json');
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'dist/agent/register.js'), path.join(__dirname, 'app.js')], {
    cwd: ROOT,
    env: { ...process.env, BEEHIVE_STATS_FILE: statsFile, BEEHIVE_APP_ROOT: ROOT, BEEHIVE_ADMIN: 'off', BEEHIVE_MODE: mode, BEEHIVE_WORKERS: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = readline.createInterface({ input: child.stdout });
  const [line] = await once(rl, 'line');
  rl.close();
  return {
    url: `http://127.0.0.1:${JSON.parse(line).port}`,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(fs.readFileSync(statsFile, 'utf8'));
    },
  };
}

async function run(url, n, init, cookie) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await fetch(url, { ...init, headers: { ...(init?.headers ?? {}), ...(cookie.v ? { cookie: cookie.v } : {}) } });
    const set = r.headers.getSetCookie()[0];
    if (set) cookie.v = set.split(';')[0];
    await r.arrayBuffer();
    ms.push(performance.now() - t0);
  }
  return ms;
}

const q = (xs, p) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function measure(mode) {
  const app = await startApp(mode);
  const out = {};
  const routes = { session: ['/session'], write: ['/write', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ note: 'x'.repeat(200) }) }], trivial: ['/hello'] };
  for (const [name, [p, init]] of Object.entries(routes)) {
    const cookie = {};
    await run(app.url + p, W, init, cookie);
    const ms = await run(app.url + p, N, init, cookie);
    out[name] = { p50: q(ms, 0.5), p99: q(ms, 0.99) };
  }
  const stats = await app.stop();
  for (const h of stats.handlers) {
    const name = { 'GET /session': 'session', 'POST /write': 'write', 'GET /hello': 'trivial' }[h.id];
    if (name) Object.assign(out[name], { offloaded: h.offloaded, local: h.local, reason: h.reason });
  }
  return out;
}

(async () => {
  const local = await measure('off');
  const offloaded = await measure('always');
  for (const k of Object.keys(offloaded)) if (offloaded[k].offloaded < N) throw new Error(`${k}: only ${offloaded[k].offloaded} offloaded (${offloaded[k].reason ?? 'failures'})`);
  process.stdout.write(JSON.stringify({ scenario: 'world-latency', local, offloaded }) + '\n');
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
