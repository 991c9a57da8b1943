// Temporary: where a warm offload burst's server time goes (CPU, run-queue wait) at ratio 1.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { openLoop, get } = require('../burst/load');
const http = require('node:http');
const rate = Number(process.argv[2] || 128), secs = Number(process.argv[3] || 6);
const token = 'probe-token-123456';
const child = spawn(process.execPath, ['-r', path.join(__dirname, '../../dist/agent/register.js'), path.join(__dirname, 'app.js')], { env: { ...process.env, ELASTIC_BLOCK_MS: '20', BEEHIVE_ADMIN: '127.0.0.1:0', BEEHIVE_ADMIN_TOKEN: token, BEEHIVE_MODE: 'manual', BEEHIVE_RATIO: '1', BEEHIVE_ROUTES: 'GET /work', BEEHIVE_SHADOW_RUNS: '0', BEEHIVE_WORKERS: '16', BEEHIVE_QUIET: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
const stat = (pid) => { try { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); const s = fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' '); return { cpu: (Number(f[11]) + Number(f[12])) * 10, runMs: Number(s[0]) / 1e6, waitMs: Number(s[1]) / 1e6 }; } catch { return { cpu: 0, runMs: 0, waitMs: 0 }; } };
let out = '';
child.stdout.on('data', async (d) => {
  out += d; const m = /listening (\d+) (\S+)/.exec(out); if (!m || child.started) return; child.started = true;
  const url = `http://127.0.0.1:${m[1]}`; const admin = m[2];
  const agent = new http.Agent({ keepAlive: true }); const u = new URL(url);
  for (let round = 0; round < 4; round++) await Promise.all(Array.from({ length: 16 }, (_, i) => get(agent, u, `/work?id=a${round}-${i}`)));
  const st = await (await fetch(admin + '/api/state', { headers: { authorization: `Bearer ${token}` } })).json();
  const wp = st.workers.map((w) => w.pid);
  const s0 = stat(child.pid); const w0 = wp.map(stat); const t0 = performance.now();
  const r = await openLoop({ url, path: '/work', phases: [{ name: 'b', seconds: secs, rate }] });
  const dt = performance.now() - t0; const s1 = stat(child.pid); const w1 = wp.map(stat);
  const lat = [...r.lat].filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const wcpu = w1.reduce((a, x, i) => a + x.cpu - w0[i].cpu, 0), wwait = w1.reduce((a, x, i) => a + x.waitMs - w0[i].waitMs, 0);
  const n = r.sends.length;
  console.log(JSON.stringify({ rate, n, wallMs: Math.round(dt), p50: lat[lat.length >> 1]?.toFixed(1), p99: lat[Math.floor(lat.length * 0.99)]?.toFixed(1), server: { cpuMsPerReq: ((s1.cpu - s0.cpu) / n).toFixed(2), runMsPerReq: ((s1.runMs - s0.runMs) / n).toFixed(2), runqWaitMs: Math.round(s1.waitMs - s0.waitMs) }, workers: { cpuMsPerReq: (wcpu / n).toFixed(2), runqWaitMs: Math.round(wwait) } }));
  child.kill('SIGKILL'); for (const p of wp) try { process.kill(p, 'SIGKILL'); } catch {} process.exit(0);
});
