'use strict';
// Shared by the agent benchmarks: machine info, quantiles, starting the bench app the way users do
// (`node [-r beehive/agent] app.js`) and reading the agent's stats file when it stops.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { once } = require('node:events');

const ROOT = path.join(__dirname, '../..');
const REGISTER = path.join(ROOT, 'dist/agent/register.js');

function machine() {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model.trim(), cores: cpus.length, node: process.version, os: `${os.type()} ${os.release()}`, loadavg: os.loadavg().map((x) => Number(x.toFixed(2))) };
}

function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
const median = (xs) => quantile(xs, 0.5);

/** Starts bench/agent/app.js, with the agent when `agent` is true; resolves on its {"port":N} line. */
async function startApp({ agent, env = {}, app = path.join(__dirname, 'app.js') }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-bench-'));
  const statsFile = path.join(dir, 'stats.json');
  const child = spawn(process.execPath, [...(agent ? ['-r', REGISTER] : []), app], {
    cwd: ROOT,
    env: { ...process.env, BEEHIVE_STATS_FILE: statsFile, BEEHIVE_APP_ROOT: ROOT, BEEHIVE_ADMIN: '127.0.0.1:0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = once(child, 'exit');
  const rl = readline.createInterface({ input: child.stdout });
  const line = await Promise.race([once(rl, 'line').then(([l]) => l), exited.then(([c]) => Promise.reject(new Error(`bench app exited with ${c}: ${stderr}`)))]);
  rl.close();
  return {
    url: `http://127.0.0.1:${JSON.parse(line).port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      try {
        return agent ? JSON.parse(fs.readFileSync(statsFile, 'utf8')) : undefined;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** `n` requests one after the other; client-side latency of each, in ms. */
async function sequential(url, n, init) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await fetch(url, init);
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** A scenario file's result: one JSON line on stdout, read by run.js. */
function emit(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

/** Milliseconds per kernel clock tick (utime/stime are counted in ticks). */
const TICK_MS = 1000 / Number(require('node:child_process').execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);

/** CPU time of a process so far, ms: utime + stime from /proc/PID/stat (kernel accounting); 0 once it is gone. */
function cpuMs(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after "pid (comm) ".
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** The pids whose parent is `pid` (a server's local workers). */
function childrenOf(pid) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

module.exports = { ROOT, TICK_MS, machine, quantile, median, startApp, sequential, emit, cpuMs, childrenOf };
