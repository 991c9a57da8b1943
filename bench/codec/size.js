'use strict';
// Data at size (a 200k-row module array): `GET /table/:i` (one row) and `GET /slice/:a` (a ~2 MB JSON
// slice of 20,000 rows), run locally (BEEHIVE_MODE=off) and offloaded (always, 2 local workers) side
// by side, several fresh processes each. Per route: p50 latency after warm-up, the ratio offloaded ÷
// local, closure bytes and channel fetches per invocation (the agent's own counters).
//   npm run build && node bench/codec/size.js [--runs 3] [--out bench/results]
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { once } = require('node:events');
const { parseArgs } = require('node:util');
const { machine, median } = require('../agent/lib');

const ROOT = path.join(__dirname, '../..');
const { values: a } = parseArgs({ options: { runs: { type: 'string', default: '3' }, out: { type: 'string', default: path.join(ROOT, 'bench/results') } } });
const RUNS = Number(a.runs);
const ROUTES = [
  { id: 'GET /table/:i', path: (i) => `/table/${(i * 7919) % 200_000}`, n: 60, warm: 5 },
  { id: 'GET /slice/:a', path: (i) => `/slice/${(i * 10_007) % 180_000}`, n: 12, warm: 2 },
];

async function start(mode) {
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'dist/agent/register.js'), path.join(__dirname, 'size-app.js')], {
    cwd: ROOT,
    env: { ...process.env, BEEHIVE_MODE: mode, BEEHIVE_WORKERS: '2', BEEHIVE_SHADOW_RUNS: '0', BEEHIVE_QUIET: '1', BEEHIVE_ADMIN: '127.0.0.1:0', BEEHIVE_APP_ROOT: ROOT },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await once(readline.createInterface({ input: child.stdout }), 'line');
  const url = `http://127.0.0.1:${JSON.parse(line).port}`;
  return {
    url,
    stats: async () => (await fetch(url + '/__stats')).json(),
    stop: async () => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function measure(mode) {
  const app = await start(mode);
  try {
    const out = {};
    for (const r of ROUTES) {
      const lat = [];
      for (let i = 0; i < r.n; i++) {
        const t0 = performance.now();
        const res = await fetch(app.url + r.path(i));
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${r.id}: HTTP ${res.status}`);
        lat.push(performance.now() - t0);
      }
      out[r.id] = { p50: median(lat.slice(r.warm)), first: lat[0] };
    }
    for (const h of await app.stats()) {
      if (!out[h.id]) continue;
      Object.assign(out[h.id], { offloaded: h.offloaded, local: h.local, failures: h.failures, closureBytes: h.closureBytes?.p50 ?? 0, fetchesPerInvocation: h.offloaded ? h.fallbacks / h.offloaded : 0 });
    }
    return out;
  } finally {
    await app.stop();
  }
}

(async () => {
  const info = machine();
  const runs = [];
  for (let k = 0; k < RUNS; k++) runs.push({ off: await measure('off'), always: await measure('always') });
  const summary = ROUTES.map((r) => {
    const pick = (mode, key) => median(runs.map((x) => x[mode][r.id][key]));
    const local = pick('off', 'p50');
    const off = pick('always', 'p50');
    return { id: r.id, localP50: local, offloadedP50: off, ratio: off / local, extraMs: off - local, closureBytes: pick('always', 'closureBytes'), fetchesPerInvocation: pick('always', 'fetchesPerInvocation'), offloaded: runs.every((x) => x.always[r.id].offloaded > 0 && x.always[r.id].failures === 0) };
  });
  fs.mkdirSync(a.out, { recursive: true });
  fs.writeFileSync(path.join(a.out, 'size.json'), JSON.stringify({ machine: info, runs: RUNS, summary, raw: runs }, null, 2) + '\n');
  const md = [
    '# Data at size: a 200k-row module array, local vs offloaded',
    '',
    `${info.cpu}, ${info.cores} cores, Node ${info.node}, load ${info.loadavg.join(' / ')}; ${RUNS} runs (fresh processes), medians of per-run p50s.`,
    '',
    '| route | p50 local (ms) | p50 offloaded (ms) | offloaded − local (ms) | ÷ local | closure bytes | fetches / invocation | every run offloaded, no failure |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |',
    ...summary.map((s) => `| ${s.id} | ${s.localP50.toFixed(1)} | ${s.offloadedP50.toFixed(1)} | ${s.extraMs.toFixed(1)} | ${s.ratio.toFixed(2)}× | ${s.closureBytes} | ${s.fetchesPerInvocation.toFixed(1)} | ${s.offloaded ? 'yes' : '**no**'} |`),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(a.out, 'size.md'), md);
  process.stdout.write(md);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
