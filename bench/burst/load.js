'use strict';
// Load generators of the burst benchmark, on node:http with a keep-alive http.Agent, no dependency.
//
// openLoop: a fixed schedule of send times (constant arrival rate per phase, evenly spaced), sent
// whether or not earlier requests have answered. Each latency is measured from the request's
// *scheduled* send time, so a late send (a busy client, no free socket) counts against the server
// rather than disappearing: no coordinated omission.
//
// closedLoop: N concurrent loops, each sending its next request when the previous one answered, for
// the saturated throughput.
const http = require('node:http');
const { performance } = require('node:perf_hooks');

function get(agent, url, path) {
  return new Promise((resolve) => {
    const req = http.request({ agent, host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/**
 * phases: [{ name, seconds, rate }]. Returns { t0Epoch, sends: Float64Array (ms after t0),
 * lat: Float64Array (ms, NaN when failed), status: Uint16Array, phases: [{name, from, to, rate}],
 * maxLagMs (worst lateness of a send against its schedule), cpu: {userMs, systemMs} of this process }.
 */
function openLoop({ url, path, phases, onTick }) {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });
  const times = [];
  const bounds = [];
  let start = 0;
  for (const p of phases) {
    const n = Math.round(p.seconds * p.rate);
    for (let k = 0; k < n; k++) times.push(start + (k * 1000) / p.rate);
    bounds.push({ name: p.name, from: start / 1000, to: (start + p.seconds * 1000) / 1000, rate: p.rate });
    start += p.seconds * 1000;
  }
  const total = start;
  const n = times.length;
  const sends = Float64Array.from(times);
  const lat = new Float64Array(n).fill(NaN);
  const status = new Uint16Array(n);
  let maxLagMs = 0;
  let done = 0;
  let i = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const t0Epoch = Date.now();
  return new Promise((resolve) => {
    let ticker;
    let nextTick = 1;
    const finish = () => {
      clearInterval(ticker);
      agent.destroy();
      const cpu = process.cpuUsage(cpu0);
      resolve({ t0Epoch, sends, lat, status, phases: bounds, maxLagMs, totalMs: total, cpu: { userMs: cpu.user / 1000, systemMs: cpu.system / 1000 } });
    };
    // Once a second, on the schedule's clock (t = 1, 2, ...): the runner samples the agent there.
    if (onTick) {
      ticker = setInterval(() => {
        const now = performance.now() - t0;
        while (nextTick * 1000 <= now && nextTick * 1000 <= total) onTick(nextTick++);
      }, 50);
    }
    const pump = () => {
      const now = performance.now() - t0;
      while (i < n && times[i] <= now) {
        const k = i++;
        maxLagMs = Math.max(maxLagMs, now - times[k]);
        void get(agent, u, `${path}?id=${k % 64}`).then((code) => {
          status[k] = code;
          if (code >= 200 && code < 400) lat[k] = performance.now() - t0 - times[k];
          if (++done === n) setTimeout(finish, Math.max(0, total - (performance.now() - t0)));
        });
      }
      if (i < n) setTimeout(pump, Math.max(0, times[i] - (performance.now() - t0)));
    };
    pump();
  });
}

/** `connections` loops for warmSeconds (not counted) then seconds; returns {rps, ok, errors, cpu}. */
async function closedLoop({ url, path, connections, seconds, warmSeconds = 2 }) {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const t0 = performance.now();
  const from = t0 + warmSeconds * 1000;
  const to = from + seconds * 1000;
  let ok = 0;
  let errors = 0;
  let k = 0;
  let cpu0;
  setTimeout(() => (cpu0 = process.cpuUsage()), warmSeconds * 1000);
  const lats = [];
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < to) {
        const s = performance.now();
        const code = await get(agent, u, `${path}?id=${k++ % 64}`);
        const e = performance.now();
        if (e < from || e > to) continue;
        if (code >= 200 && code < 400) {
          ok++;
          lats.push(e - s);
        } else errors++;
      }
    }),
  );
  agent.destroy();
  const cpu = process.cpuUsage(cpu0);
  lats.sort((a, b) => a - b);
  return { rps: ok / seconds, ok, errors, p50: lats[lats.length >> 1] ?? null, cpu: { userMs: cpu.user / 1000, systemMs: cpu.system / 1000 } };
}

module.exports = { openLoop, closedLoop, get };
