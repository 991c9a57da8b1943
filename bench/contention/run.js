'use strict';
// Contention: an ~8 ms CPU handler ending in an unlocked `site.views++` that the response shows,
// at 1, 4, 16 and 64 requests in flight, run locally (no agent offloading: BEEHIVE_MODE=off) and
// offloaded (BEEHIVE_MODE=always, local workers), side by side in one run. Per scenario: the share
// of responses committed from workers, the server's CPU per request and the workers' CPU per
// committed request (utime + stime from /proc/PID/stat: kernel accounting), the worker CPU per
// committed request over the handler's own CPU (retries cost), p50/p99, and the conflicts and
// retries the agent counted. Every run also checks the counter: the responses must be exactly a
// permutation of 1..N.
//
//   npm run build
//   node bench/contention/run.js                      # 3 runs: bench/results/contention.{json,md}
//   node bench/contention/run.js --runs 1 --requests 80 --inflight 4,16 --out /tmp/c.json --md /tmp/c.md
//   node bench/contention/run.js --cold-channel       # each worker opens its channel in the run
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { machine, median, quantile } = require('../agent/lib');
const { cpuMs, childrenOf, startServer } = require('./proc');

const ROOT = path.join(__dirname, '../..');
const { values: a } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    requests: { type: 'string', default: '160' },
    inflight: { type: 'string', default: '1,4,16,64' },
    workers: { type: 'string', default: '8' },
    'work-ms': { type: 'string', default: '8' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/contention.json') },
    md: { type: 'string', default: path.join(ROOT, 'bench/results/contention.md') },
    'cold-channel': { type: 'boolean', default: false },
    // Warm-up requests per worker. Each worker's JIT is still warming for its first ~20
    // invocations, and at 16 in flight a worker serves only ~20 of the 160 measured requests.
    'warmup-per-worker': { type: 'string', default: '2' },
  },
});
const RUNS = Number(a.runs);
const N = Number(a.requests);
const INFLIGHT = a.inflight.split(',').map(Number);
const WORKERS = Number(a.workers);
const WORK_MS = Number(a['work-ms']);
// A worker opens its channel connection to the server once, on its first channel call (about 20 ms
// of its helper thread's CPU: a cold HTTP upgrade). The warm-up opens it (a module load through the
// module fallback), as it starts every worker; --cold-channel leaves it to the first fetch of
// `site` in the run, where 8 such connections weigh on 160 requests.
const WARM_CHANNEL = !a['cold-channel'];
const WARMUP = Number(a['warmup-per-worker']);

async function drive(url, n, inflight, route = '/comment') {
  let next = 0;
  const lat = [];
  const views = [];
  const lane = async () => {
    while (next < n) {
      next++;
      const t0 = performance.now();
      const r = await fetch(url + route);
      const body = await r.json();
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
      lat.push(performance.now() - t0);
      views.push(body.views);
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  return { lat, views };
}

async function scenario(mode, inflight) {
  const app = await startServer(path.join(__dirname, 'app.js'), {
    BEEHIVE_MODE: mode,
    BEEHIVE_ROUTES: 'GET /comment,GET /warm',
    BEEHIVE_WORKERS: String(WORKERS),
    BEEHIVE_SHADOW_RUNS: '0',
    WORK_MS: String(WORK_MS),
    WARM_CHANNEL: WARM_CHANNEL ? '1' : '0',
  });
  try {
    // Warm-up: JIT, and every worker started with its channel open (their start-up is not the
    // steady state measured here), on a route without shared state: the counter is still cold when
    // the run starts, so its first conflicts and their retries are part of what is measured.
    await drive(app.url, Math.max(WARMUP * WORKERS, 16), Math.min(WORKERS, 16), '/warm');
    await drive(app.url, 2, 1);
    const base = (await (await fetch(app.url + '/views')).json()).views;
    const kids0 = new Map(childrenOf(app.pid).map((p) => [p, cpuMs(p)]));
    const s0 = cpuMs(app.pid);
    const st0 = await app.stats();
    const t0 = performance.now();
    const { lat, views } = await drive(app.url, N, inflight);
    const wallS = (performance.now() - t0) / 1000;
    const s1 = cpuMs(app.pid);
    let workerMs = 0;
    for (const p of childrenOf(app.pid)) workerMs += cpuMs(p) - (kids0.get(p) ?? 0);
    const st1 = await app.stats();
    const rel = views.map((v) => v - base).sort((x, y) => x - y);
    const permutation = rel.length === N && rel.every((v, i) => v === i + 1);
    const end = (await (await fetch(app.url + '/views')).json()).views - base;
    const d = (k) => (st1[k] ?? 0) - (st0[k] ?? 0);
    const committed = d('offloaded');
    return {
      mode,
      inflight,
      requests: N,
      permutation,
      counterEnd: end,
      committedShare: committed / N,
      serverCpuMsPerRequest: (s1 - s0) / N,
      workerCpuMsPerCommitted: committed > 0 ? workerMs / committed : 0,
      workerCpuOverHandler: committed > 0 ? workerMs / committed / WORK_MS : 0,
      conflicts: d('conflicts'),
      retried: d('retried'),
      reexecuted: d('reexecuted'),
      conflictsByReason: diffReasons(st0.conflictsByReason, st1.conflictsByReason),
      p50: median(lat),
      p99: quantile(lat, 0.99),
      wallS,
    };
  } finally {
    await app.stop();
  }
}

function diffReasons(a0 = {}, a1 = {}) {
  const out = {};
  for (const [k, v] of Object.entries(a1)) if (v - (a0[k] ?? 0) > 0) out[k] = v - (a0[k] ?? 0);
  return out;
}

function table(summary) {
  const lines = [
    '| in flight | committed from workers | server CPU / request, local → offloaded (ms) | worker CPU / committed (ms) | ÷ handler CPU | conflicts (retried) | p50 local → offloaded (ms) | p99 local → offloaded (ms) | permutation of 1..N |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |',
  ];
  for (const s of summary) {
    lines.push(
      `| ${s.inflight} | ${(s.committedShare * 100).toFixed(1)}% | ${s.localCpu.toFixed(2)} → ${s.offCpu.toFixed(2)} | ${s.workerCpu.toFixed(2)} | ${s.workerOverHandler.toFixed(2)}× | ${s.conflicts} (${s.retried}) | ${s.localP50.toFixed(1)} → ${s.offP50.toFixed(1)} | ${s.localP99.toFixed(1)} → ${s.offP99.toFixed(1)} | ${s.permutation ? 'yes, every run' : '**no**'} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const info = { ...machine(), runs: RUNS, requests: N, workers: WORKERS, workMs: WORK_MS, warmChannel: WARM_CHANNEL, warmupPerWorker: WARMUP, at: new Date().toISOString() };
  console.error(`machine: ${JSON.stringify(info)}`);
  const runs = [];
  for (let r = 0; r < RUNS; r++) {
    for (const inflight of INFLIGHT) {
      for (const mode of ['off', 'always']) {
        const res = await scenario(mode, inflight);
        res.run = r + 1;
        res.loadavg = os.loadavg()[0];
        runs.push(res);
        console.error(
          `run ${r + 1} ${mode} ×${inflight}: committed ${(res.committedShare * 100).toFixed(0)}%, server ${res.serverCpuMsPerRequest.toFixed(2)} ms/req, worker ${res.workerCpuMsPerCommitted.toFixed(2)} ms/commit, conflicts ${res.conflicts} (retried ${res.retried}), p50 ${res.p50.toFixed(1)} ms, permutation ${res.permutation} (load ${res.loadavg.toFixed(2)})`,
        );
      }
    }
  }
  const pick = (inflight, mode, k) => median(runs.filter((x) => x.inflight === inflight && x.mode === mode).map((x) => x[k]));
  const summary = INFLIGHT.map((inflight) => ({
    inflight,
    committedShare: pick(inflight, 'always', 'committedShare'),
    localCpu: pick(inflight, 'off', 'serverCpuMsPerRequest'),
    offCpu: pick(inflight, 'always', 'serverCpuMsPerRequest'),
    workerCpu: pick(inflight, 'always', 'workerCpuMsPerCommitted'),
    workerOverHandler: pick(inflight, 'always', 'workerCpuOverHandler'),
    conflicts: pick(inflight, 'always', 'conflicts'),
    retried: pick(inflight, 'always', 'retried'),
    localP50: pick(inflight, 'off', 'p50'),
    offP50: pick(inflight, 'always', 'p50'),
    localP99: pick(inflight, 'off', 'p99'),
    offP99: pick(inflight, 'always', 'p99'),
    permutation: runs.filter((x) => x.inflight === inflight).every((x) => x.permutation && x.counterEnd === N),
  }));
  fs.mkdirSync(path.dirname(a.out), { recursive: true });
  fs.writeFileSync(a.out, JSON.stringify({ machine: info, summary, runs }, null, 2) + '\n');
  const md = `# Contention: an unlocked counter under concurrency, local vs offloaded\n\n${RUNS} runs, medians; ${N} requests per scenario, a ~${WORK_MS} ms CPU handler ending in \`site.views++\`; ${WORKERS} local workers warmed up with ${WARMUP} requests each, ${WARM_CHANNEL ? 'their channel connections opened in the warm-up' : 'each opening its channel connection in the run (--cold-channel)'}.\nMachine: ${info.cpu}, ${info.cores} cores, Node ${info.node}, load average at start ${info.loadavg.join(' / ')}.\nWorker CPU ÷ handler CPU above 1 is the worker runtime's own cost plus the retries.\n\n${table(summary)}\n`;
  fs.writeFileSync(a.md, md);
  process.stdout.write(md);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
