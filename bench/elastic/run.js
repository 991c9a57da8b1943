'use strict';
// Elastic-capacity burst benchmark (paper §5.2, Figure 7): `GET /work` blocks its thread for
// --block ms with Atomics.wait (app.js), so the server's event loop is stalled as by CPU work while
// --workers local workers, each also just waiting, behave like elastic FaaS instances on 2 cores.
// Open loop: --steady s at --load × the server's capacity, --burst s at --factor × that, --after s
// back. Scenarios, each in a fresh server process, every run:
//
//   off    the app alone, no agent
//   warm   BeeHive auto mode, the workers started and warm before the schedule
//   cold   BeeHive auto mode, every worker killed before the schedule (the burst meets none)
//   watch  (only with --only watch) auto mode with the handler held local: the controller's trace of
//          an unrelieved burst, for the controller's tests
//
// Writes --out (JSON), --md (table) and --svg (chart). `npm run build` first.
//
//   node bench/elastic/run.js                          # 3 runs, ~5 min
//   node bench/elastic/run.js --runs 1 --only warm --trace-dir /tmp/traces
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { openLoop, closedLoop, get } = require('../burst/load');
const an = require('./analyse');
const { chart } = require('./chart');
const { table } = require('./table');

const ROOT = path.join(__dirname, '../..');
const USAGE = 'usage: run.js [--runs N] [--steady S] [--burst S] [--after S] [--load F] [--factor F] [--block MS] [--slo MS] [--workers N] [--capacity RPS] [--nice N] [--rt PRIO] [--only off,warm,cold|watch] [--trace-dir DIR] [--out FILE] [--md FILE] [--svg FILE]';
let a;
try {
  ({ values: a } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      steady: { type: 'string', default: '10' },
      burst: { type: 'string', default: '8' },
      after: { type: 'string', default: '10' },
      load: { type: 'string', default: '0.7' },
      factor: { type: 'string', default: '4' },
      block: { type: 'string', default: '20' },
      slo: { type: 'string', default: '100' },
      workers: { type: 'string', default: '16' },
      capacity: { type: 'string' },
      nice: { type: 'string', default: '0' },
      rt: { type: 'string', default: '0' },
      only: { type: 'string', default: 'off,warm,cold' },
      'trace-dir': { type: 'string' },
      out: { type: 'string', default: path.join(ROOT, 'bench/results/elastic.json') },
      md: { type: 'string', default: path.join(ROOT, 'bench/results/elastic.md') },
      svg: { type: 'string', default: path.join(ROOT, 'bench/results/elastic.svg') },
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
const cfg = {
  runs: N('runs'), steadyS: N('steady'), burstS: N('burst'), afterS: N('after'), load: N('load'), factor: N('factor'),
  blockMs: N('block'), sloMs: N('slo'), workers: N('workers'), windowMs: 250, sustainMs: 3000,
  // Scheduling priority of the server (and the workers it forks), e.g. -5 on a machine others load.
  nice: Number(a.nice),
  // Real-time round-robin priority (chrt) for the runner and the server; 0: the normal scheduler.
  rt: Number(a.rt),
};
if (!Number.isInteger(cfg.nice) || cfg.nice < -20 || cfg.nice > 19) {
  process.stderr.write(`run.js: --nice must be an integer from -20 to 19\n${USAGE}\n`);
  process.exit(2);
}
if (!Number.isInteger(cfg.rt) || cfg.rt < 0 || cfg.rt > 99) {
  process.stderr.write(`run.js: --rt must be an integer from 0 to 99\n${USAGE}\n`);
  process.exit(2);
}
// --rt: the runner (the load generator) runs again under SCHED_RR, and starts the server there too
// with reset-on-fork, so that the workers the server forks start as normal tasks. On a machine
// other work keeps busy that makes the server and the load generator as if alone, and the workers
// what they stand for — capacity elsewhere: a worker's boot or run never takes the server's core
// (the server's own BeeHive work still does). Nice levels cannot do it: with autogroup scheduling
// they do not reach across sessions, and the workers inherit the server's.
if (cfg.rt > 0 && process.env.ELASTIC_RT_RUNNER !== String(cfg.rt)) {
  const r = require('node:child_process').spawnSync('chrt', ['--rr', String(cfg.rt), process.execPath, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ELASTIC_RT_RUNNER: String(cfg.rt) },
  });
  if (r.error) process.stderr.write(`run.js: --rt needs chrt (util-linux) and the right to use real-time priorities: ${r.error.message}\n`);
  process.exit(r.status ?? 1);
}
const KINDS = a.only.split(',');
for (const k of KINDS) {
  if (!['off', 'warm', 'cold', 'watch'].includes(k)) {
    process.stderr.write(`run.js: --only takes off, warm, cold, watch\n${USAGE}\n`);
    process.exit(2);
  }
}
const HANDLER = 'GET /work';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));
const log = (s) => process.stdout.write(s + '\n');

// ── processes ─────────────────────────────────────────────────────────────────────────────────────
const live = new Set();
function killAll() {
  for (const p of live) {
    for (const pid of [p.pid, ...p.workerPids]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
  live.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => (killAll(), process.exit(130)));

function startServer(agent, env) {
  const token = crypto.randomBytes(16).toString('hex');
  const args = [...(agent ? ['-r', path.join(ROOT, 'dist/agent/register.js')] : []), path.join(__dirname, 'app.js')];
  const cmd = cfg.rt > 0 ? ['chrt', '--reset-on-fork', '--rr', String(cfg.rt), 'nice', '-n', String(cfg.nice)] : ['nice', '-n', String(cfg.nice)];
  const child = spawn(cmd[0], [...cmd.slice(1), process.execPath, ...args], {
    cwd: ROOT,
    env: { ...process.env, ELASTIC_BLOCK_MS: String(cfg.blockMs), BEEHIVE_ADMIN: '127.0.0.1:0', BEEHIVE_ADMIN_TOKEN: token, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = { pid: child.pid, child, token, workerPids: new Set(), stderr: '' };
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
  for (const w of proc.workerPids) {
    try {
      process.kill(w, 'SIGKILL');
    } catch {}
  }
  live.delete(proc);
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
const state = (proc) => api(proc, 'GET', '/api/state');
const setMode = (proc, mode) => api(proc, 'PUT', `/api/handlers/${encodeURIComponent(HANDLER)}`, { mode });

/** CPU time of a process (all threads), ms. */
function cpuMs(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/**
 * With the agent: the handler offloaded on every request ('always') in rounds of --workers
 * concurrent requests, so that every worker starts and runs it once (warm), then back to 'auto'
 * (the controller's); 'cold' then kills every worker, 'watch' holds the handler local.
 */
async function warmUp(proc, kind) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const u = new URL(proc.url);
  for (let i = 0; i < 20; i++) await get(agent, u, `/work?id=w${i}`);
  if (!proc.admin) return agent.destroy();
  await setMode(proc, 'always');
  // The first round's requests hold their workers 3 s, so that all --workers of them start (the pool starts
  // a worker only for an offload that no idle or starting one will take); then 2 rounds at --block.
  for (let round = 0; round < 3; round++) {
    const ms = round === 0 ? '&ms=3000' : '';
    await Promise.all(Array.from({ length: cfg.workers }, (_, i) => get(agent, u, `/work?id=a${round}-${i}${ms}`)));
  }
  agent.destroy();
  await setMode(proc, kind === 'watch' ? 'off' : 'auto');
  let s = await state(proc);
  for (const w of s.workers) if (w.pid) proc.workerPids.add(w.pid);
  const h = s.handlers.find((x) => x.id === HANDLER);
  if (!h || h.offloaded < cfg.workers) throw new Error(`warm-up: ${HANDLER} offloaded ${h?.offloaded} times, wanted ${cfg.workers}: ${JSON.stringify(h)}`);
  if (s.workers.length < cfg.workers) throw new Error(`warm-up: ${s.workers.length} workers started, wanted ${cfg.workers}`);
  if (kind === 'cold') {
    for (const w of s.workers) process.kill(w.pid, 'SIGKILL');
    for (let i = 0; i < 100 && s.workers.length > 0; i++) {
      await sleep(50);
      s = await state(proc);
    }
    if (s.workers.length > 0) throw new Error(`cold: ${s.workers.length} workers still there`);
  }
  return { workers: s.workers.length, offloaded: h.offloaded };
}

async function measureCapacity() {
  const proc = await startServer(false, {});
  try {
    await warmUp(proc, 'off');
    const r = await closedLoop({ url: proc.url, path: '/work', connections: 4, seconds: 4, warmSeconds: 1 });
    return r.rps;
  } finally {
    await stopServer(proc);
  }
}

async function scenario(kind, rate, run) {
  const agent = kind !== 'off';
  const traceFile = agent ? path.join(os.tmpdir(), `elastic-trace-${process.pid}-${kind}-${run}.json`) : undefined;
  const env = agent
    ? { BEEHIVE_MODE: 'auto', BEEHIVE_ROUTES: HANDLER, BEEHIVE_SHADOW_RUNS: '0', BEEHIVE_WORKERS: String(cfg.workers), BEEHIVE_SLO_MS: String(cfg.sloMs), BEEHIVE_PLATFORM: 'local', ELASTIC_TRACE: traceFile }
    : {};
  const proc = await startServer(agent, env);
  let res;
  try {
    const loadBefore = load();
    const warm = await warmUp(proc, kind);
    await sleep(1500); // calm periods for the controller, an idle loop for the app alone
    const phases = [
      { name: 'steady', seconds: cfg.steadyS, rate },
      { name: 'burst', seconds: cfg.burstS, rate: cfg.factor * rate },
      { name: 'after', seconds: cfg.afterS, rate },
    ];
    const cpu0 = cpuMs(proc.pid);
    const r = await openLoop({ url: proc.url, path: '/work', phases });
    const serverCpuMs = cpuMs(proc.pid) - cpu0;
    const end = agent ? await state(proc).catch(() => undefined) : undefined;
    for (const w of end?.workers ?? []) if (w.pid) proc.workerPids.add(w.pid);
    const h = end?.handlers.find((x) => x.id === HANDLER);
    res = { kind, rate, r, warm, loadBefore, serverCpuPct: Math.round((serverCpuMs / r.totalMs) * 1000) / 10, handler: h ? { local: h.local, offloaded: h.offloaded, reexecuted: h.reexecuted, failures: h.failures } : undefined, workersEnd: end?.workers.length };
  } finally {
    await stopServer(proc);
  }
  const trace = traceFile && fs.existsSync(traceFile) ? JSON.parse(fs.readFileSync(traceFile, 'utf8')) : [];
  if (traceFile && fs.existsSync(traceFile)) {
    if (a['trace-dir']) {
      fs.mkdirSync(a['trace-dir'], { recursive: true });
      fs.copyFileSync(traceFile, path.join(a['trace-dir'], `${kind}-${run}.json`));
      fs.writeFileSync(path.join(a['trace-dir'], `${kind}-${run}.meta.json`), JSON.stringify({ t0Epoch: res.r.t0Epoch, onsetS: cfg.steadyS, endS: cfg.steadyS + cfg.burstS, config: cfg, rate }));
    }
    fs.rmSync(traceFile);
  }
  return summarise(res, trace);
}

function summarise(x, trace) {
  const { r } = x;
  const onset = cfg.steadyS;
  const end = cfg.steadyS + cfg.burstS;
  const totalS = r.totalMs / 1000;
  const wp99 = an.windowP99(r.sends, r.lat, r.totalMs, cfg.windowMs);
  const rows = an.perSecond(r.sends, r.lat, r.totalMs);
  const times = an.ratioTimes(trace, r.t0Epoch, onset, end);
  const ratioRows = an.ratioPerSecond(trace, r.t0Epoch, Math.ceil(totalS));
  const inBurst = rows.filter((s) => s.t >= onset && s.t < end);
  let failed = 0;
  // What each failure was: an HTTP status, or 0 for a socket error (a reset, a refused connection).
  const failedBy = {};
  for (let k = 0; k < r.lat.length; k++) {
    if (!Number.isNaN(r.lat[k])) continue;
    failed++;
    failedBy[r.status[k]] = (failedBy[r.status[k]] ?? 0) + 1;
  }
  return {
    kind: x.kind,
    rate: x.rate,
    // The last 6 s before the onset, all requests together.
    steadyP99: an.p99Between(r.sends, r.lat, Math.max(0, onset - 6), onset),
    burstPeakP99: Math.max(0, ...inBurst.map((s) => s.p99 ?? 0)),
    recoveryS: an.recoveryS(wp99, cfg.windowMs, onset, end, cfg.sloMs, Math.min(cfg.sustainMs, (end - onset) * 1000 - cfg.windowMs)),
    drainAfterEndS: an.recoveryS(wp99, cfg.windowMs, end, totalS, cfg.sloMs, Math.min(cfg.sustainMs, (totalS - end) * 1000 - cfg.windowMs)),
    ...times,
    sent: r.sends.length,
    failed,
    failedBy,
    maxSendLagMs: Math.round(r.maxLagMs * 10) / 10,
    serverCpuPct: x.serverCpuPct,
    rows,
    ratio: ratioRows,
    decisions: trace.map((p) => ({ t: Math.round((p.at - r.t0Epoch) / 10) / 100, ratio: p.ratio, demand: p.demand, elu: Math.round(p.signals.elu * 1000) / 1000, action: p.action })).filter((p) => p.t >= -1),
    estimatesEnd: trace.at(-1)?.estimates,
    handler: x.handler,
    warmUp: x.warm,
    workersEnd: x.workersEnd,
    loadBefore: x.loadBefore,
    loadAfter: load(),
  };
}

const fmt = (x, d = 1) => (x === null || x === undefined ? '—' : typeof x === 'number' ? x.toFixed(d) : String(x));

async function main() {
  const t0 = Date.now();
  const cpus = os.cpus();
  const machine = { cpu: cpus[0]?.model.trim(), cpus: cpus.length, node: process.version, platform: `${os.platform()} ${os.release()}`, loadavgStart: load() };
  log(`machine: ${machine.cpus} × ${machine.cpu}, node ${machine.node}, load average ${machine.loadavgStart.join(' ')}`);
  const capacity = a.capacity ? Number(a.capacity) : await measureCapacity();
  const rate = Math.round(cfg.load * capacity);
  log(`capacity (closed loop, the app alone, ${cfg.blockMs} ms blocked per request): ${fmt(capacity)} req/s → open loop ${rate} → ${Math.round(cfg.factor * rate)} req/s, SLO ${cfg.sloMs} ms, ${cfg.workers} workers`);
  const runs = [];
  for (let run = 1; run <= cfg.runs; run++) {
    const r = { run };
    for (const kind of KINDS) {
      const x = await scenario(kind, rate, run);
      r[kind] = x;
      log(`run ${run} ${kind.padEnd(5)} steady p99 ${fmt(x.steadyP99)} ms  peak ${fmt(x.burstPeakP99, 0)} ms  recovery ${x.recoveryS === null ? 'never' : `${fmt(x.recoveryS, 2)} s`}  drain ${fmt(x.drainAfterEndS, 2)} s  ratio up +${fmt(x.ratioUpS, 2)} s, 0 again +${fmt(x.ratioZeroAfterEndS, 2)} s after the end, ${x.ratioChanges ?? 0} changes, max before the burst ${fmt(x.maxRatioSteady, 2)}  failed ${x.failed}${x.failed ? ` ${JSON.stringify(x.failedBy)}` : ''}  server CPU ${x.serverCpuPct} %  load ${x.loadAfter.join(' ')}`);
    }
    runs.push(r);
  }
  machine.loadavgEnd = load();
  const col = (k, f) => runs.map((r) => (r[k] ? f(r[k]) : undefined)).filter((v) => v !== undefined);
  const summary = { capacityRps: capacity, rate, burstRate: Math.round(cfg.factor * rate) };
  for (const k of KINDS) {
    summary[k] = {
      steadyP99: an.median(col(k, (x) => x.steadyP99)),
      peakP99: an.median(col(k, (x) => x.burstPeakP99)),
      recoveryS: an.medianOrNever(col(k, (x) => x.recoveryS)),
      recoveryRuns: col(k, (x) => x.recoveryS),
      drainAfterEndS: an.medianOrNever(col(k, (x) => x.drainAfterEndS)),
      ratioUpS: an.medianOrNever(col(k, (x) => x.ratioUpS)),
      ratioZeroAfterEndS: an.medianOrNever(col(k, (x) => x.ratioZeroAfterEndS)),
      ratioZeroRuns: col(k, (x) => x.ratioZeroAfterEndS),
      maxRatioSteady: an.median(col(k, (x) => x.maxRatioSteady)),
      ratioChanges: an.median(col(k, (x) => x.ratioChanges)),
      failed: col(k, (x) => x.failed).reduce((p, q) => p + q, 0),
      serverCpuPct: an.median(col(k, (x) => x.serverCpuPct)),
      loadAfter: col(k, (x) => x.loadAfter),
    };
  }
  if (summary.off && summary.warm) summary.steadyP99WarmOverOff = summary.warm.steadyP99 / summary.off.steadyP99;
  if (summary.off && summary.cold) summary.steadyP99ColdOverOff = summary.cold.steadyP99 / summary.off.steadyP99;
  const result = { machine, config: cfg, summary, runs, elapsedS: Math.round((Date.now() - t0) / 1000) };
  const md = table(result);
  log('');
  log(md);
  for (const [file, text] of [[a.out, JSON.stringify(result, null, 1)], [a.md, md], [a.svg, chart(result)]]) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}

main().catch((err) => {
  process.stderr.write(`run.js: ${err.stack ?? err}\n`);
  killAll();
  process.exitCode = 1;
});
