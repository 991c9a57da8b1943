'use strict';
// Burst benchmark (paper §5.2, Figures 7 and 8) on a 2-core machine: the server pinned to core 0,
// BeeHive's local workers pinned to core 1. Per run, each scenario in a fresh server process:
//
//   tput-alone   closed-loop saturated throughput, the app alone (no agent) on core 0
//   tput-0.5     the same with the agent in manual mode, ratio 0.5, workers on core 1
//   tput-auto    the same in auto mode: the ratio the controller picks under saturation
//   burst-off    open loop: steady load at --load × capacity, then 2× for --burst s, then back; no agent
//   burst-auto   the same schedule with BeeHive in auto mode, warm workers, shadow runs done before
//   burst-manual the same with BeeHive at a fixed ratio 0.5 (the mechanism without the controller)
//
// capacity = tput-alone of the first run. Writes --out (JSON) and --svg (chart). `npm run build` first.
//
//   node bench/burst/run.js                     # 3 runs, ~5 min
//   node bench/burst/run.js --runs 1 --steady 8 --burst 6 --after 8
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { openLoop, closedLoop, get } = require('./load');
const { chart } = require('./chart');

const ROOT = path.join(__dirname, '../..');
const USAGE = 'usage: run.js [--runs N] [--steady S] [--settle S] [--burst S] [--after S] [--load F] [--slo MS] [--work N] [--workers N] [--connections N] [--tput-seconds S] [--capacity RPS] [--only tput,burst] [--counter none|lock|plain] [--trace-dir DIR] [--out FILE] [--svg FILE]';
let a;
try {
  ({ values: a } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      steady: { type: 'string', default: '12' },
      settle: { type: 'string', default: '20' },
      burst: { type: 'string', default: '10' },
      after: { type: 'string', default: '12' },
      load: { type: 'string', default: '0.7' },
      slo: { type: 'string', default: '100' },
      work: { type: 'string', default: '4500' },
      workers: { type: 'string', default: '4' },
      connections: { type: 'string', default: '16' },
      'tput-seconds': { type: 'string', default: '8' },
      capacity: { type: 'string' },
      counter: { type: 'string', default: 'none' },
      'trace-dir': { type: 'string' },
      only: { type: 'string', default: 'tput,burst' },
      out: { type: 'string', default: path.join(ROOT, 'bench/results/burst.json') },
      svg: { type: 'string', default: path.join(ROOT, 'bench/results/burst.svg') },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (err) {
  process.stderr.write(`run.js: ${err.message}\n${USAGE}\n`);
  process.exit(2);
}
if (a.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}
const N = (k) => {
  const v = Number(a[k]);
  if (!(v > 0)) {
    process.stderr.write(`run.js: --${k} has a bad value '${a[k]}'\n${USAGE}\n`);
    process.exit(2);
  }
  return v;
};
const RUNS = N('runs');
const STEADY = N('steady');
const SETTLE = N('settle');
const BURST = N('burst');
const AFTER = N('after');
const LOAD = N('load');
const SLO = N('slo');
const WORK = N('work');
const WORKERS = N('workers');
const CONNECTIONS = N('connections');
const TPUT_SECONDS = N('tput-seconds');
const ONLY = new Set(a.only.split(','));
// Open-loop scenarios: without BeeHive, BeeHive auto (the controller), BeeHive at a fixed ratio 0.5.
const BURST_KINDS = ['off', 'auto', 'manual'];
if (!['none', 'lock', 'plain'].includes(a.counter)) {
  process.stderr.write(`run.js: --counter must be none, lock or plain\n${USAGE}\n`);
  process.exit(2);
}
const SERVER_CPU = '0';
const WORKER_CPU = '1';
const WINDOW_MS = 250; // resolution of the recovery time
const SUSTAIN_MS = 3000; // p99 under the SLO for this long counts as recovered

if (os.cpus().length < 2) {
  process.stderr.write('run.js: needs at least 2 CPUs (server on core 0, workers on core 1)\n');
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));
const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((p, q) => p - q);
  if (!v.length) return null;
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);
const log = (s) => process.stdout.write(s + '\n');

// ── processes ─────────────────────────────────────────────────────────────────────────────────────
const live = new Set(); // servers and the worker pids seen, stopped on any exit
function killAll() {
  for (const p of live) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {}
    for (const w of p.workerPids) {
      try {
        process.kill(w, 'SIGKILL');
      } catch {}
    }
  }
  live.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** `taskset -c 0 node [-r agent] app.js`; resolves once it prints its port (and admin URL). */
function startServer({ agent, env = {} }) {
  const args = ['-c', SERVER_CPU, process.execPath, ...(agent ? ['-r', path.join(ROOT, 'dist/agent/register.js')] : []), path.join(__dirname, 'app.js')];
  const child = spawn('taskset', args, {
    cwd: ROOT,
    env: { ...process.env, BURST_WORK: String(WORK), BURST_COUNTER: a.counter, BEEHIVE_ADMIN: '127.0.0.1:0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = { pid: child.pid, child, workerPids: new Set(), pinned: new Set(), stderr: '' };
  live.add(proc);
  child.stderr.on('data', (d) => (proc.stderr += d));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+) (\S+)/.exec(out);
      if (m) resolve(Object.assign(proc, { url: `http://127.0.0.1:${m[1]}`, admin: m[2] === '-' ? undefined : m[2] }));
    });
    child.on('exit', (code) => reject(new Error(`app exited with ${code}: ${proc.stderr}`)));
  });
}

async function stopServer(proc) {
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    const exited = new Promise((r) => proc.child.once('exit', r));
    proc.child.kill('SIGTERM');
    await Promise.race([exited, sleep(3000)]);
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  }
  await sleep(200);
  for (const w of proc.workerPids) {
    try {
      process.kill(w, 0);
      process.kill(w, 'SIGKILL');
    } catch {}
  }
  live.delete(proc);
}

const affinity = (pid) => {
  try {
    return /: (\S+)\s*$/.exec(execFileSync('taskset', ['-cp', String(pid)], { encoding: 'utf8' }))?.[1];
  } catch {
    return undefined;
  }
};

/** CPU time of a process (all its threads), ms; 0 once it is gone. */
function cpuMs(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in USER_HZ ticks
  } catch {
    return 0;
  }
}
/** Server and worker CPU over a window: start() then stop() → {serverPct, workersPct} of one core. */
function cpuMeter(proc) {
  let t0;
  let s0;
  let w0;
  return {
    start() {
      t0 = Date.now();
      s0 = cpuMs(proc.pid);
      w0 = new Map([...proc.workerPids].map((p) => [p, cpuMs(p)]));
    },
    stop() {
      const dt = Date.now() - t0;
      const w = [...proc.workerPids].reduce((n, p) => n + cpuMs(p) - (w0.get(p) ?? 0), 0);
      return { serverPct: Math.round(((cpuMs(proc.pid) - s0) / dt) * 1000) / 10, workersPct: Math.round((w / dt) * 1000) / 10 };
    },
  };
}

/** Every thread (-a) of each worker process not pinned yet onto the worker core. */
function pinWorkers(proc, state) {
  for (const w of state?.workers ?? []) {
    if (!w.pid) continue;
    proc.workerPids.add(w.pid);
    if (proc.pinned.has(w.pid)) continue;
    try {
      execFileSync('taskset', ['-a', '-cp', WORKER_CPU, String(w.pid)], { stdio: 'ignore' });
      proc.pinned.add(w.pid);
    } catch {}
  }
}

async function api(proc, method, p, body) {
  const r = await fetch(proc.admin + p, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${proc.token}` },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
  return r.json();
}
const state = (proc) => api(proc, 'GET', '/api/state').catch(() => undefined);
const setMode = (proc, mode) => api(proc, 'PUT', `/api/handlers/${encodeURIComponent('GET /thumb')}`, { mode });

/**
 * Sequential requests: JIT on the server; with the agent, then pairs of requests (two workers start)
 * until the handler is live (shadows done).
 */
async function warm(proc, { untilLive = false } = {}) {
  const http = require('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const u = new URL(proc.url);
  for (let i = 0; i < 30; i++) await get(agent, u, `/thumb?id=w${i}`);
  let h;
  if (untilLive) {
    const deadline = Date.now() + 20_000;
    for (let i = 0; Date.now() < deadline; i++) {
      await Promise.all([get(agent, u, `/thumb?id=s${i}`), get(agent, u, `/thumb?id=t${i}`)]);
      if (i % 4 !== 3) continue;
      const s = await state(proc);
      h = s?.handlers.find((x) => x.id === 'GET /thumb');
      if (h?.phase === 'live' && h.offloaded >= 6 && (s.workers ?? []).filter((w) => w.state === 'idle').length >= Math.min(WORKERS, 2)) break;
    }
    if (h?.phase !== 'live') throw new Error(`GET /thumb did not go live in the warm-up: ${JSON.stringify(h)}`);
  }
  agent.destroy();
  return h;
}

const agentEnv = (mode, extra = {}) => ({
  BEEHIVE_MODE: mode,
  BEEHIVE_ROUTES: 'GET /thumb',
  BEEHIVE_SHADOW_RUNS: '1',
  BEEHIVE_WORKERS: String(WORKERS),
  BEEHIVE_SLO_MS: String(SLO),
  BEEHIVE_PLATFORM: 'local',
  ...extra,
});

async function withServer(opts, fn) {
  const token = crypto.randomBytes(16).toString('hex');
  const proc = await startServer({ ...opts, env: { ...opts.env, ...(opts.agent ? { BEEHIVE_ADMIN_TOKEN: token } : {}) } });
  proc.token = token;
  try {
    return await fn(proc);
  } finally {
    await stopServer(proc);
  }
}

// ── scenarios ─────────────────────────────────────────────────────────────────────────────────────
async function throughput(kind) {
  const agent = kind !== 'alone';
  const env = kind === '0.5' ? agentEnv('manual', { BEEHIVE_RATIO: '0.5' }) : kind === 'auto' ? agentEnv('auto') : {};
  return withServer({ agent, env }, async (proc) => {
    const loadBefore = load();
    if (kind === 'auto') {
      // The controller owns the ratio in auto mode: the warm-up offloads through the handler's mode.
      await setMode(proc, 'always');
      await warm(proc, { untilLive: true });
      await setMode(proc, 'auto');
    } else await warm(proc, { untilLive: kind === '0.5' });
    if (agent) pinWorkers(proc, await state(proc));
    const ratios = [];
    const poll = agent
      ? setInterval(async () => {
          const s = await state(proc);
          pinWorkers(proc, s);
          if (s) ratios.push(s.ratio);
        }, 1000)
      : undefined;
    // Settled like the open-loop scenarios (see burst()): the capacity of the app as it runs on, not
    // of its first seconds, while its young generation is still small.
    if (SETTLE > 0) await closedLoop({ url: proc.url, path: '/thumb', connections: CONNECTIONS, seconds: SETTLE });
    const meter = cpuMeter(proc);
    const warmT = setTimeout(() => meter.start(), 2000); // closedLoop's warm-up is 2 s
    const r = await closedLoop({ url: proc.url, path: '/thumb', connections: CONNECTIONS, seconds: TPUT_SECONDS });
    clearTimeout(warmT);
    const cpu = meter.stop();
    clearInterval(poll);
    const s = agent ? await state(proc) : undefined;
    const h = s?.handlers.find((x) => x.id === 'GET /thumb');
    return {
      kind,
      rps: r.rps,
      ok: r.ok,
      errors: r.errors,
      ratioEnd: s?.ratio ?? 0,
      cpu,
      ratios,
      offloaded: h?.offloaded ?? 0,
      local: h?.local ?? 0,
      failures: h?.failures ?? 0,
      reexecuted: h?.reexecuted ?? 0,
      affinity: { server: affinity(proc.pid), workers: [...proc.workerPids].map((p) => `${p}:${affinity(p)}`) },
      clientCpuMs: r.cpu.userMs + r.cpu.systemMs,
      loadBefore,
      loadAfter: load(),
    };
  });
}

function analyse(r, onsetS, burstEndS) {
  const n = r.sends.length;
  const seconds = Math.ceil(r.totalMs / 1000);
  const perSecond = Array.from({ length: seconds }, (_, t) => ({ t, sent: 0, ok: 0, errors: 0, lat: [] }));
  const windows = Array.from({ length: Math.ceil(r.totalMs / WINDOW_MS) }, () => []);
  for (let k = 0; k < n; k++) {
    const s = perSecond[Math.floor(r.sends[k] / 1000)];
    s.sent++;
    if (Number.isNaN(r.lat[k])) s.errors++;
    else {
      s.ok++;
      s.lat.push(r.lat[k]);
      windows[Math.floor(r.sends[k] / WINDOW_MS)].push(r.lat[k]);
    }
  }
  const rows = perSecond.map((s) => {
    s.lat.sort((x, y) => x - y);
    return { t: s.t, sent: s.sent, ok: s.ok, errors: s.errors, p50: quantile(s.lat, 0.5), p99: quantile(s.lat, 0.99) };
  });
  const wp99 = windows.map((w) => (w.sort((x, y) => x - y), w.length ? quantile(w, 0.99) : 0));
  // Recovered at window w: every window in [w, w + SUSTAIN) has p99 <= SLO (and none failed).
  const settle = (fromS, toS) => {
    const w0 = Math.round((fromS * 1000) / WINDOW_MS);
    const w1 = Math.round((toS * 1000) / WINDOW_MS);
    const need = SUSTAIN_MS / WINDOW_MS;
    for (let w = w0; w + need <= w1; w++) {
      if (wp99.slice(w, w + need).every((x) => x <= SLO)) return ((w - w0) * WINDOW_MS) / 1000;
    }
    return null;
  };
  const steady = rows.filter((x) => x.t >= onsetS - 5 && x.t < onsetS);
  const inBurst = rows.filter((x) => x.t >= onsetS && x.t < burstEndS);
  const all = Array.from(r.lat).filter((x) => !Number.isNaN(x));
  return {
    rows,
    windowP99: wp99.map((x) => Math.round(x * 10) / 10),
    steadyP99: median(steady.map((x) => x.p99)),
    burstPeakP99: Math.max(0, ...inBurst.map((x) => x.p99 ?? 0)),
    // Seconds from burst onset until p99 stays under the SLO for SUSTAIN_MS; null: not within the burst.
    recoveryS: settle(onsetS, burstEndS),
    // Seconds from the end of the burst until p99 is back under the SLO (the backlog drained).
    drainAfterEndS: settle(burstEndS, r.totalMs / 1000),
    sent: n,
    failed: n - all.length,
    maxSendLagMs: Math.round(r.maxLagMs * 10) / 10,
    clientCpuPct: Math.round(((r.cpu.userMs + r.cpu.systemMs) / r.totalMs) * 1000) / 10,
  };
}

let traceSeq = 0;
async function burst(kind, rate) {
  const agent = kind !== 'off';
  const phases = [
    { name: 'steady', seconds: STEADY, rate },
    { name: 'burst', seconds: BURST, rate: 2 * rate },
    { name: 'after', seconds: AFTER, rate },
  ];
  // --trace-dir: the controller's decisions of each auto run (app.js, BURST_TRACE).
  const traceFile = kind === 'auto' && a['trace-dir'] ? path.join(a['trace-dir'], `auto-${++traceSeq}.json`) : undefined;
  if (traceFile) fs.mkdirSync(a['trace-dir'], { recursive: true });
  const env = kind === 'auto' ? agentEnv('auto', traceFile ? { BURST_TRACE: traceFile } : {}) : kind === 'manual' ? agentEnv('manual', { BEEHIVE_RATIO: '0.5' }) : {};
  return withServer({ agent, env }, async (proc) => {
    const loadBefore = load();
    let live;
    if (agent) {
      // Warm-up: offload so that the workers start and the handler is live; in manual mode through the
      // ratio (shadow runs first), in auto mode through the handler's mode ('always', no shadows: the
      // controller owns the ratio and would set it back at its next period), then back to the
      // controller, with calm periods before the schedule.
      if (kind === 'auto') await setMode(proc, 'always');
      else await api(proc, 'PUT', '/api/ratio', { ratio: 0.5 });
      live = await warm(proc, { untilLive: true });
      if (kind === 'auto') await setMode(proc, 'auto');
      pinWorkers(proc, await state(proc));
      await sleep(1500);
    } else await warm(proc);
    // Settle, unmeasured, at the steady rate, in every scenario alike: V8 grows the young generation
    // as a process allocates (each scavenge then collects more, and pauses longer: 3 ms at first, ~50
    // ms after 20 s of this handler's 2,000 hash objects per request, with or without the agent). The
    // agent's own start-up grows it early, so a steady phase right after start compared a young app
    // with a grown one (bench/burst/README.md, "Steady state").
    if (SETTLE > 0) await openLoop({ url: proc.url, path: '/thumb', phases: [{ name: 'settle', seconds: SETTLE, rate }] });
    const samples = [];
    const meter = cpuMeter(proc);
    meter.start();
    const r = await openLoop({
      url: proc.url,
      path: '/thumb',
      phases,
      onTick: agent
        ? (t) => {
            void state(proc).then((s) => {
              if (!s) return;
              pinWorkers(proc, s);
              const h = s.handlers.find((x) => x.id === 'GET /thumb');
              samples.push({
                t,
                ratio: s.ratio,
                elu: Math.round(s.totals.elu * 1000) / 1000,
                inFlight: s.totals.inFlight,
                agentP99: s.totals.latency.p99,
                local: h?.local,
                offloaded: h?.offloaded,
                shadow: h?.shadow,
                workersBusy: s.workers.filter((w) => w.state === 'busy').length,
                workers: s.workers.length,
              });
            });
          }
        : undefined,
    });
    const cpu = meter.stop();
    const series = agent ? await api(proc, 'GET', '/api/series').catch(() => undefined) : undefined;
    const end = agent ? await state(proc) : undefined;
    const h = end?.handlers.find((x) => x.id === 'GET /thumb');
    const res = analyse(r, STEADY, STEADY + BURST);
    if (traceFile) fs.writeFileSync(traceFile.replace(/\.json$/, '.meta.json'), JSON.stringify({ t0Epoch: r.t0Epoch, onsetS: STEADY, endS: STEADY + BURST, rate }));
    samples.sort((x, y) => x.t - y.t);
    return {
      kind,
      rate,
      ...res,
      ratio: samples.map((s) => ({ t: s.t, ratio: s.ratio, elu: s.elu, inFlight: s.inFlight, agentP99: s.agentP99, workersBusy: s.workersBusy })),
      cpu,
      ratioBeforeBurst: samples.filter((s) => s.t <= STEADY).at(-1)?.ratio ?? null,
      // Seconds from the burst onset until the first sample (1 s apart) that shows a ratio above the one before it.
      ratioUpAtS: (() => {
        const before = samples.filter((s) => s.t <= STEADY).at(-1)?.ratio ?? 0;
        const up = samples.find((s) => s.t > STEADY && s.ratio > before + 1e-9);
        return up ? up.t - STEADY : null;
      })(),
      agentSeries: series?.points?.map((p) => ({ t: Math.round((p.t - r.t0Epoch) / 100) / 10, ratio: p.ratio, elu: p.elu, p99: p.p99, offloadedRps: p.offloadedRps, localRps: p.localRps })) ?? undefined,
      handler: h ? { phase: h.phase, local: h.local, offloaded: h.offloaded, shadow: h.shadow, failures: h.failures, reexecuted: h.reexecuted } : undefined,
      warmup: live ? { shadow: live.shadow, offloaded: live.offloaded, phase: live.phase } : undefined,
      affinity: { server: affinity(proc.pid), workers: [...proc.workerPids].map((p) => `${p}:${affinity(p)}`) },
      loadBefore,
      loadAfter: load(),
    };
  });
}

// ── main ──────────────────────────────────────────────────────────────────────────────────────────
const fmt = (x, d = 1) => (x === null || x === undefined ? '—' : typeof x === 'number' ? x.toFixed(d) : String(x));

async function main() {
  const t0 = Date.now();
  const cpus = os.cpus();
  const machine = { cpu: cpus[0]?.model.trim(), cpus: cpus.length, node: process.version, platform: `${os.platform()} ${os.release()}`, loadavgStart: load() };
  log(`machine: ${machine.cpus} × ${machine.cpu}, node ${machine.node}, load average ${machine.loadavgStart.join(' ')}`);
  log(`server pinned to core ${SERVER_CPU} (taskset -c), workers pinned to core ${WORKER_CPU} (taskset -a -cp after they start); the load generator is this process, unpinned`);
  const runs = [];
  let capacity = a.capacity ? Number(a.capacity) : undefined;
  for (let run = 1; run <= RUNS; run++) {
    const r = { run };
    if (ONLY.has('tput')) {
      for (const kind of ['alone', '0.5', 'auto']) {
        const x = await throughput(kind);
        r[`tput-${kind}`] = x;
        log(`run ${run} tput-${kind.padEnd(5)} ${fmt(x.rps).padStart(7)} req/s  ratio ${fmt(x.ratioEnd, 2)}  offloaded ${x.offloaded}/${x.offloaded + x.local}  failures ${x.failures}  re-run ${x.reexecuted}  CPU server ${x.cpu.serverPct} % workers ${x.cpu.workersPct} %  load ${x.loadAfter.join(' ')}`);
      }
      capacity ??= r['tput-alone'].rps;
      r.throughputRatio = r['tput-0.5'].rps / r['tput-alone'].rps;
      r.throughputRatioAuto = r['tput-auto'].rps / r['tput-alone'].rps;
    }
    if (ONLY.has('burst')) {
      if (!capacity) {
        capacity = (await throughput('alone')).rps;
        log(`capacity (closed loop, app alone): ${fmt(capacity)} req/s`);
      }
      const rate = Math.round(LOAD * capacity);
      for (const kind of BURST_KINDS) {
        const x = await burst(kind, rate);
        r[`burst-${kind}`] = x;
        log(`run ${run} burst-${kind.padEnd(4)} ${rate}→${2 * rate} req/s  steady p99 ${fmt(x.steadyP99)} ms  peak p99 ${fmt(x.burstPeakP99, 0)} ms  recovery ${x.recoveryS === null ? 'not within the burst' : `${fmt(x.recoveryS, 2)} s`}  drain after end ${fmt(x.drainAfterEndS, 2)} s  failed ${x.failed}  send lag max ${x.maxSendLagMs} ms  CPU server ${x.cpu.serverPct} % workers ${x.cpu.workersPct} %  load ${x.loadAfter.join(' ')}`);
        if (kind !== 'off') log(`      ratio per second: ${x.ratio.map((s) => s.ratio.toFixed(2)).join(' ')}`);
      }
    }
    runs.push(r);
  }
  machine.loadavgEnd = load();
  const col = (k, f) => runs.map((r) => (r[k] ? f(r[k]) : null));
  const summary = {
    capacityRps: capacity,
    rate: capacity ? Math.round(LOAD * capacity) : null,
    throughputAloneRps: median(col('tput-alone', (x) => x.rps)),
    throughput05Rps: median(col('tput-0.5', (x) => x.rps)),
    throughputAutoRps: median(col('tput-auto', (x) => x.rps)),
    throughputRatio: median(runs.map((r) => r.throughputRatio)),
    throughputRatioAuto: median(runs.map((r) => r.throughputRatioAuto)),
    autoRatioEnd: median(col('tput-auto', (x) => x.ratioEnd)),
    recoveryOffS: median(col('burst-off', (x) => (x.recoveryS === null ? Infinity : x.recoveryS))),
    recoveryOffWithinBurst: col('burst-off', (x) => x.recoveryS !== null).filter(Boolean).length,
    recoveryAutoS: median(col('burst-auto', (x) => (x.recoveryS === null ? Infinity : x.recoveryS))),
    recoveryAutoRuns: col('burst-auto', (x) => x.recoveryS),
    recoveryOffRuns: col('burst-off', (x) => x.recoveryS),
    drainOffS: median(col('burst-off', (x) => x.drainAfterEndS)),
    ratioUpAtS: median(col('burst-auto', (x) => x.ratioUpAtS)),
    recoveryManualRuns: col('burst-manual', (x) => x.recoveryS),
    peakP99Manual: median(col('burst-manual', (x) => x.burstPeakP99)),
    steadyP99Manual: median(col('burst-manual', (x) => x.steadyP99)),
    ratioBeforeBurst: median(col('burst-auto', (x) => x.ratioBeforeBurst)),
    steadyP99Off: median(col('burst-off', (x) => x.steadyP99)),
    steadyP99Auto: median(col('burst-auto', (x) => x.steadyP99)),
    peakP99Off: median(col('burst-off', (x) => x.burstPeakP99)),
    peakP99Auto: median(col('burst-auto', (x) => x.burstPeakP99)),
  };
  // median() drops Infinity (never recovered): say so instead.
  const med = (xs) => {
    const v = xs.map((x) => (x === null ? Infinity : x)).sort((p, q) => p - q);
    if (!v.length) return null;
    const m = v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    return Number.isFinite(m) ? m : null;
  };
  summary.recoveryOffS = med(summary.recoveryOffRuns.filter((x) => x !== undefined));
  summary.recoveryAutoS = med(summary.recoveryAutoRuns.filter((x) => x !== undefined));
  summary.recoveryManualS = med(summary.recoveryManualRuns.filter((x) => x !== undefined));

  const result = {
    machine,
    config: { runs: RUNS, counter: a.counter, settleS: SETTLE, steadyS: STEADY, burstS: BURST, afterS: AFTER, load: LOAD, sloMs: SLO, work: WORK, workers: WORKERS, connections: CONNECTIONS, tputSeconds: TPUT_SECONDS, windowMs: WINDOW_MS, sustainMs: SUSTAIN_MS, serverCpu: SERVER_CPU, workerCpu: WORKER_CPU },
    summary,
    runs,
    elapsedS: Math.round((Date.now() - t0) / 1000),
  };
  log('');
  log('━━ summary (medians over runs) ━━');
  log(`machine: ${machine.cpus} × ${machine.cpu}, node ${machine.node}, load average start ${machine.loadavgStart.join(' ')}, end ${machine.loadavgEnd.join(' ')}`);
  if (ONLY.has('tput')) {
    log(`saturated throughput (closed loop, ${CONNECTIONS} connections): alone on core 0 ${fmt(summary.throughputAloneRps)} req/s; + workers on core 1, manual ratio 0.5: ${fmt(summary.throughput05Rps)} req/s (${fmt(summary.throughputRatio, 2)}×); auto: ${fmt(summary.throughputAutoRps)} req/s (${fmt(summary.throughputRatioAuto, 2)}×, controller ended at ratio ${fmt(summary.autoRatioEnd, 2)})`);
  }
  if (ONLY.has('burst')) {
    const rec = (x, runsOf) => (x === null ? `not within the burst (${runsOf.filter((v) => v === null).length}/${runsOf.length} runs)` : `${fmt(x, 2)} s`);
    log(`open loop ${summary.rate} → ${2 * summary.rate} req/s (${LOAD} × capacity ${fmt(capacity)}), SLO ${SLO} ms, burst ${BURST} s:`);
    log(`  without BeeHive: steady p99 ${fmt(summary.steadyP99Off)} ms, peak ${fmt(summary.peakP99Off, 0)} ms, recovery ${rec(summary.recoveryOffS, summary.recoveryOffRuns)}, back under the SLO ${fmt(summary.drainOffS, 2)} s after the burst ended`);
    log(`  with BeeHive:    steady p99 ${fmt(summary.steadyP99Auto)} ms, peak ${fmt(summary.peakP99Auto, 0)} ms, recovery ${rec(summary.recoveryAutoS, summary.recoveryAutoRuns)} (runs: ${summary.recoveryAutoRuns.map((x) => fmt(x, 2)).join(', ')}), ratio ${fmt(summary.ratioBeforeBurst, 2)} before the burst, first up ${fmt(summary.ratioUpAtS, 0)} s after onset`);
    log(`  fixed ratio 0.5: steady p99 ${fmt(summary.steadyP99Manual)} ms, peak ${fmt(summary.peakP99Manual, 0)} ms, recovery ${rec(summary.recoveryManualS, summary.recoveryManualRuns)}`);
  }
  fs.mkdirSync(path.dirname(a.out), { recursive: true });
  fs.writeFileSync(a.out, JSON.stringify(result, null, 1));
  log(`wrote ${path.relative(process.cwd(), a.out)}`);
  if (ONLY.has('burst')) {
    fs.writeFileSync(a.svg, chart(result));
    log(`wrote ${path.relative(process.cwd(), a.svg)}`);
  }
}

main().catch((err) => {
  process.stderr.write(`run.js: ${err.stack ?? err}\n`);
  killAll();
  process.exitCode = 1;
});
