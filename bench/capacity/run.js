'use strict';
// What an offload costs the server: its own CPU per request (utime + stime of the server process from
// /proc/PID/stat, kernel accounting, which a busy machine disturbs little), local vs offloaded, side
// by side in one run, for a ~15 ms CPU handler, the demo's heaviest handler (the preview) and a
// trivial one. The capacity multiplier is local CPU per request ÷ server CPU per offloaded request:
// how much more load one server absorbs when FaaS workers are elastic. Also the first offload of a
// handler with warm workers (the latency of its first request once every worker has served an
// offload of another handler), beside its first request run locally: both pay the handler's own
// cold code (V8 compiles and optimises it as it runs); what the offload adds beyond is BeeHive's.
//
// The server is pinned to core 0 and its workers to core 1 (taskset), the load comes from this
// process with `--inflight` requests in flight.
//
//   npm run build
//   node bench/capacity/run.js                     # 3 runs: bench/results/capacity.{json,md}
//   node bench/capacity/run.js --runs 1 --requests 100 --out /tmp/c.json --md /tmp/c.md
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { once } = require('node:events');
const { parseArgs } = require('node:util');
const { draft } = require('../../examples/demo/seed');
const { machine, median, TICK_MS, cpuMs, childrenOf } = require('../agent/lib');

const ROOT = path.join(__dirname, '../..');
const REGISTER = path.join(ROOT, 'dist/agent/register.js');
const { values: a } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    requests: { type: 'string', default: '200' },
    inflight: { type: 'string', default: '2' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/capacity.json') },
    md: { type: 'string', default: path.join(ROOT, 'bench/results/capacity.md') },
  },
});
const RUNS = Number(a.runs);
const N = Number(a.requests);
const INFLIGHT = Number(a.inflight);
const pinnable = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return os.cpus().length >= 2;
  } catch {
    return false;
  }
})();

const previewBody = JSON.stringify(draft('ada', 12));
const WARM = { route: 'GET /warm', path: () => '/warm', init: () => undefined };
const HANDLERS = {
  cpu: { route: 'GET /cpu/:id', path: (i) => `/cpu/${i % 50}`, init: () => undefined, requests: () => N },
  preview: { route: 'POST /preview', path: () => '/preview', init: () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: previewBody }), requests: () => N },
  trivial: { route: 'GET /trivial', path: () => '/trivial', init: () => undefined, requests: () => N * 10 },
};

async function start(mode, route) {
  const args = [...(pinnable ? ['-c', '0'] : []), process.execPath, '-r', REGISTER, path.join(__dirname, 'app.js')];
  const child = spawn(pinnable ? 'taskset' : args.shift(), args, {
    cwd: ROOT,
    env: { ...process.env, BEEHIVE_MODE: mode, BEEHIVE_ROUTES: `${route},GET /warm`, BEEHIVE_WORKERS: String(Math.max(2, INFLIGHT)), BEEHIVE_ADMIN: 'off', BEEHIVE_APP_ROOT: ROOT },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const rl = readline.createInterface({ input: child.stdout });
  const line = await Promise.race([once(rl, 'line').then(([l]) => l), exited.then(([c]) => Promise.reject(new Error(`app exited with ${c}`)))]);
  rl.close();
  // taskset execs node: the pid is the server's.
  return {
    pid: child.pid,
    url: `http://127.0.0.1:${JSON.parse(line).port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

function pinWorkers(pid) {
  if (!pinnable) return;
  for (const w of childrenOf(pid)) {
    try {
      execFileSync('taskset', ['-a', '-cp', '1', String(w)], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  }
}

async function drive(url, h, n) {
  let next = 0;
  const lat = [];
  const lane = async () => {
    while (next < n) {
      const i = next++;
      const t0 = performance.now();
      const r = await fetch(url + h.path(i), h.init());
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`${h.route}: HTTP ${r.status}`);
      lat.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, lane));
  return lat;
}

async function scenario(name, mode) {
  const h = HANDLERS[name];
  const app = await start(mode, h.route);
  try {
    // Warm workers first: each serves offloads of another handler (locally, the same requests run
    // here), then, a second after the start (an app that just printed its port is still finishing
    // its start-up, as BeeHive's background work is), the handler's first request.
    const started = performance.now();
    await drive(app.url, WARM, INFLIGHT * 4);
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - started))));
    pinWorkers(app.pid);
    const tf = performance.now();
    const r = await fetch(app.url + h.path(0), h.init());
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${h.route}: HTTP ${r.status}`);
    const first = performance.now() - tf;
    await drive(app.url, h, Math.max(20, Math.floor(h.requests() / 10))); // JIT and warm workers
    pinWorkers(app.pid);
    const c0 = cpuMs(app.pid);
    const t0 = performance.now();
    const lat = await drive(app.url, h, h.requests());
    const wall = performance.now() - t0;
    const c1 = cpuMs(app.pid);
    return { handler: name, mode, requests: lat.length, serverCpuMsPerRequest: (c1 - c0) / lat.length, p50: median(lat), wallS: wall / 1000, firstRequestMs: first };
  } finally {
    await app.stop();
  }
}

function table(summary) {
  const lines = [
    '| handler | server CPU per request, local (ms) | server CPU per request, offloaded (ms) | capacity multiplier | offloaded ÷ local | first request, local (ms) | first offload, warm workers (ms) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of summary) {
    lines.push(`| ${s.handler} | ${s.localMs.toFixed(2)} | ${s.offloadedMs.toFixed(2)} | ${s.multiplier.toFixed(1)}× | ${s.costRatio.toFixed(2)}× | ${s.firstLocalMs.toFixed(1)} | ${s.firstOffloadMs.toFixed(1)} |`);
  }
  return lines.join('\n');
}

async function main() {
  const info = { ...machine(), pinned: pinnable, clkTck: 1000 / TICK_MS, runs: RUNS, requests: N, inflight: INFLIGHT, at: new Date().toISOString() };
  console.error(`machine: ${JSON.stringify(info)}`);
  const runs = [];
  for (let r = 0; r < RUNS; r++) {
    for (const name of Object.keys(HANDLERS)) {
      for (const mode of ['off', 'always']) {
        const res = await scenario(name, mode);
        res.run = r + 1;
        res.loadavg = os.loadavg()[0];
        runs.push(res);
        console.error(`run ${r + 1} ${name} ${mode}: ${res.serverCpuMsPerRequest.toFixed(2)} ms CPU/request, p50 ${res.p50.toFixed(2)} ms, first request ${res.firstRequestMs.toFixed(1)} ms (load ${res.loadavg.toFixed(2)})`);
      }
    }
  }
  const summary = Object.keys(HANDLERS).map((name) => {
    const local = median(runs.filter((x) => x.handler === name && x.mode === 'off').map((x) => x.serverCpuMsPerRequest));
    const off = median(runs.filter((x) => x.handler === name && x.mode === 'always').map((x) => x.serverCpuMsPerRequest));
    const firstLocal = median(runs.filter((x) => x.handler === name && x.mode === 'off').map((x) => x.firstRequestMs));
    const first = median(runs.filter((x) => x.handler === name && x.mode === 'always').map((x) => x.firstRequestMs));
    return { handler: name, localMs: local, offloadedMs: off, multiplier: local / off, costRatio: off / local, firstLocalMs: firstLocal, firstOffloadMs: first };
  });
  fs.mkdirSync(path.dirname(a.out), { recursive: true });
  fs.writeFileSync(a.out, JSON.stringify({ machine: info, summary, runs }, null, 2) + '\n');
  const md = `# Capacity: the server's CPU per request, local vs offloaded\n\n${RUNS} runs, medians; ${N} requests per handler (trivial: ${N * 10}), ${INFLIGHT} in flight; server on core 0, workers on core 1: ${pinnable}.\nMachine: ${info.cpu}, ${info.cores} cores, Node ${info.node}, load average at start ${info.loadavg.join(' / ')}.\n\n${table(summary)}\n`;
  fs.writeFileSync(a.md, md);
  process.stdout.write(md);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
