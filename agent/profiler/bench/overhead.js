'use strict';
// Overhead of the CPU profiler on a CPU-bound loop (run after `npm run build`):
//   node agent/profiler/bench/overhead.js
// Throughput of a hashing loop with no profiler, with continuous sampling at two intervals, and on
// the duty cycle, alternated in rounds so machine drift hits every configuration alike.
const { createHash } = require('node:crypto');
const os = require('node:os');
const { createCpuProfiler } = require('../../../dist/agent/profiler');

function handler() {
  let h = 'seed';
  for (let i = 0; i < 50; i++) h = createHash('sha256').update(h).digest('hex');
  return h;
}
function opsPerSecond(ms) {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) { handler(); n++; }
  return (n * 1000) / ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rounds = Number(process.env.ROUNDS || 5);
const ms = Number(process.env.MS || 1000);

const results = { baseline: [], 'sampling 1000us': [], 'sampling 200us': [] };
const profiler = createCpuProfiler({ samplingIntervalUs: 1000 });
profiler.track('GET /hash', handler);
const fine = createCpuProfiler({ samplingIntervalUs: 200 });
fine.track('GET /hash', handler);
const stopMs = [];
opsPerSecond(300); // warm up
for (let r = 0; r < rounds; r++) {
  results.baseline.push(opsPerSecond(ms));
  profiler.begin();
  results['sampling 1000us'].push(opsPerSecond(ms));
  let t = performance.now();
  profiler.end();
  stopMs.push(performance.now() - t);
  fine.begin();
  results['sampling 200us'].push(opsPerSecond(ms));
  fine.end();
}
fine.close();

// Duty cycle in real time, through the timers: the loop yields every 50 ms so windows can open and close.
async function dutyRun(withProfiler) {
  const p = withProfiler ? createCpuProfiler({ samplingIntervalUs: 1000, windowMs: 1000, periodMs: 10_000 }) : undefined;
  p?.track('GET /hash', handler);
  p?.start();
  let n = 0;
  const end = performance.now() + 10_000;
  while (performance.now() < end) {
    const slice = performance.now() + 50;
    while (performance.now() < slice) { handler(); n++; }
    await new Promise((r) => setImmediate(r));
  }
  p?.close();
  return n / 10;
}

(async () => {
  const base = median(results.baseline);
  console.log(`node ${process.version}, ${os.cpus()[0].model}, ${os.cpus().length} cpus`);
  for (const [k, v] of Object.entries(results)) {
    const m = median(v);
    console.log(`${k.padEnd(18)} ${m.toFixed(0).padStart(8)} ops/s  ${(((base - m) / base) * 100).toFixed(2).padStart(6)}% slower`);
  }
  console.log(`end of a 1 s window (Profiler.stop + attribution): median ${median(stopMs).toFixed(2)} ms`);
  if (process.env.DUTY !== '0') {
    const a = await dutyRun(false);
    const b = await dutyRun(true);
    const c = await dutyRun(false);
    const d = await dutyRun(true);
    const off = (a + c) / 2, on = (b + d) / 2;
    console.log(`duty cycle 1 s / 10 s over 2x10 s: ${on.toFixed(0)} vs ${off.toFixed(0)} ops/s  ${(((off - on) / off) * 100).toFixed(2)}% slower`);
  }
})();
