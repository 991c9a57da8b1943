'use strict';
// A small open-loop load for the demo's auto phase: requests at a fixed schedule (a constant rate
// per step, evenly spaced), sent whether or not earlier ones have answered, each latency measured
// from its scheduled send time. Keep-alive http.Agent, no dependency.
const http = require('node:http');
const { performance } = require('node:perf_hooks');

/**
 * steps: [{ name, seconds, rate }]; method (POST); path: a string or path(i); body(i): the i-th
 * request's JSON body (none when absent).
 * onSecond(t, {sent, ok, bad, p99}) after each second of the schedule (by completion time).
 * Resolves when every request has answered: { sent, ok, bad, rps, p50, p99, bySecond }.
 */
function openLoop({ url, method = 'POST', path, steps, body, onSecond }) {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const times = [];
  let start = 0;
  for (const s of steps) {
    const n = Math.round(s.seconds * s.rate);
    for (let k = 0; k < n; k++) times.push(start + (k * 1000) / s.rate);
    start += s.seconds * 1000;
  }
  const total = start;
  const seconds = Array.from({ length: Math.ceil(total / 1000) + 1 }, () => ({ sent: 0, ok: 0, bad: 0, lat: [] }));
  const all = [];
  let i = 0;
  let done = 0;
  let reported = 0;
  const t0 = performance.now();
  const q = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] : 0);
  return new Promise((resolve) => {
    const report = (upTo) => {
      while (reported < upTo && reported < seconds.length - 1) {
        const s = seconds[reported];
        s.lat.sort((x, y) => x - y);
        onSecond?.(reported + 1, { sent: s.sent, ok: s.ok, bad: s.bad, p99: q(s.lat, 0.99) });
        reported++;
      }
    };
    const ticker = setInterval(() => report(Math.floor((performance.now() - t0) / 1000)), 100);
    const finish = () => {
      clearInterval(ticker);
      report(Math.ceil(total / 1000));
      agent.destroy();
      all.sort((x, y) => x - y);
      const ok = all.length;
      resolve({ sent: times.length, ok, bad: times.length - ok, rps: ok / (total / 1000), p50: q(all, 0.5), p99: q(all, 0.99) });
    };
    const send = (k) => {
      const data = body ? body(k) : '';
      seconds[Math.min(seconds.length - 1, Math.floor(times[k] / 1000))].sent++;
      const req = http.request(
        {
          agent,
          host: u.hostname,
          port: u.port,
          path: typeof path === 'function' ? path(k) : path,
          method,
          headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {},
        },
        (res) => {
          res.resume();
          res.on('end', () => settle(k, res.statusCode >= 200 && res.statusCode < 300));
          res.on('error', () => settle(k, false));
        },
      );
      req.on('error', () => settle(k, false));
      req.end(data);
    };
    const settle = (k, ok) => {
      const now = performance.now() - t0;
      const s = seconds[Math.min(seconds.length - 1, Math.floor(now / 1000))];
      if (ok) {
        const ms = now - times[k];
        s.ok++;
        s.lat.push(ms);
        all.push(ms);
      } else s.bad++;
      if (++done === times.length) setTimeout(finish, Math.max(0, total - now));
    };
    const pump = () => {
      const now = performance.now() - t0;
      while (i < times.length && times[i] <= now) send(i++);
      if (i < times.length) setTimeout(pump, Math.max(0, times[i] - (performance.now() - t0)));
    };
    pump();
  });
}

module.exports = { openLoop };
