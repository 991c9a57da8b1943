'use strict';
// Burst benchmark (paper §5.2): steady load, then from --burst-at on a second, equal load (twice as
// heavy in all) until the end. Reports per-second throughput and p50/p99, the offloading ratio the
// agent chose, and how long the p99 took to settle after the burst. Needs `npm run build` first.
//
//   node bench/burst/run.js                          # app without the agent (baseline)
//   node bench/burst/run.js --agent --out bench/results/burst.json
const { spawn } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const fs = require('node:fs');
const { parseArgs } = require('node:util');
const autocannon = require('autocannon');
const { LogHistogram } = require('../../dist/agent/profiler');

const { values: a } = parseArgs({
  options: {
    agent: { type: 'boolean', default: false },
    duration: { type: 'string', default: '180' },
    'burst-at': { type: 'string', default: '60' },
    connections: { type: 'string', default: '8' },
    path: { type: 'string', default: '/thumb' },
    admin: { type: 'string', default: '127.0.0.1:9477' },
    out: { type: 'string' },
  },
});
const duration = Number(a.duration);
const burstAt = Number(a['burst-at']);
const connections = Number(a.connections);

function startApp() {
  const root = path.join(__dirname, '../..');
  const args = [...(a.agent ? ['-r', path.join(root, 'dist/agent/register.js')] : []), path.join(__dirname, 'app.js')];
  const child = spawn(process.execPath, args, { env: { ...process.env, BEEHIVE_ADMIN: a.admin }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}` });
    });
    child.on('exit', (code) => reject(new Error(`app exited with ${code}`)));
  });
}

async function adminState() {
  try {
    const r = await fetch(`http://${a.admin}/api/state`);
    return r.ok ? await r.json() : undefined;
  } catch {
    return undefined;
  }
}

function load(url, seconds, onResponse) {
  const inst = autocannon({ url: url + a.path, connections, duration: seconds });
  inst.on('response', (_client, status, _bytes, ms) => onResponse(status, ms));
  return new Promise((resolve) => inst.on('done', resolve));
}

async function main() {
  const { child, url } = await startApp();
  const t0 = Date.now();
  const seconds = Array.from({ length: duration }, () => ({ h: new LogHistogram(), errors: 0, ratio: null, offloaded: null }));
  const onResponse = (status, ms) => {
    const s = seconds[Math.floor((Date.now() - t0) / 1000)];
    if (!s) return;
    s.h.record(ms);
    if (status >= 400) s.errors++;
  };
  const sampler = setInterval(async () => {
    const i = Math.floor((Date.now() - t0) / 1000);
    const st = a.agent ? await adminState() : undefined;
    if (st && seconds[i]) Object.assign(seconds[i], { ratio: st.ratio, offloaded: st.totals.offloaded });
  }, 1000);
  await Promise.all([load(url, duration, onResponse), new Promise((r) => setTimeout(r, burstAt * 1000)).then(() => load(url, duration - burstAt, onResponse))]);
  clearInterval(sampler);
  child.kill('SIGTERM');

  const rows = seconds.map((s, t) => ({ t, rps: s.h.count, p50: s.h.quantile(0.5), p99: s.h.quantile(0.99), errors: s.errors, ratio: s.ratio }));
  const before = rows.slice(Math.max(0, burstAt - 20), burstAt).map((r) => r.p99).sort((x, y) => x - y);
  const normalP99 = before[before.length >> 1] || 0;
  // Settled: from this second on, five seconds in a row within 1.5x of the p99 before the burst.
  const settleAt = rows.findIndex((r, t) => t >= burstAt && rows.slice(t, t + 5).length === 5 && rows.slice(t, t + 5).every((x) => x.p99 <= 1.5 * normalP99));
  const result = {
    machine: { node: process.version, cpu: os.cpus()[0]?.model, cpus: os.cpus().length, platform: `${os.platform()} ${os.release()}` },
    config: { agent: a.agent, duration, burstAt, connections, path: a.path },
    normalP99Ms: normalP99,
    settleSeconds: settleAt < 0 ? null : settleAt - burstAt,
    seconds: rows,
  };
  for (const r of rows) {
    console.log(`${String(r.t).padStart(4)}s ${String(r.rps).padStart(6)} req/s  p50 ${r.p50.toFixed(1).padStart(7)} ms  p99 ${r.p99.toFixed(1).padStart(7)} ms` +
      (r.ratio === null ? '' : `  ratio ${r.ratio.toFixed(2)}`) + (r.errors ? `  ${r.errors} errors` : ''));
  }
  console.log(`p99 before the burst ${normalP99.toFixed(1)} ms; settled ${result.settleSeconds === null ? 'never' : `${result.settleSeconds} s after the burst`}`);
  if (a.out) {
    fs.mkdirSync(path.dirname(a.out), { recursive: true });
    fs.writeFileSync(a.out, JSON.stringify(result, null, 2));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
