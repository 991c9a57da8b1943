'use strict';
// V8's CPU profiler through node:inspector (what the agent uses: an in-process inspector Session,
// Profiler.start/stop) beside v8-profiler-next (the native addon the product brief named), on an
// Express app under autocannon load (app.js). Per process: the first start (V8 lists all compiled
// code), a second start after a stop (the agent opens a window every 10 s), the event loop's worst
// delay in the 300 ms after a start against the 300 ms before it, stop time and serialisation
// (JSON.stringify of the profile) time, profile size, and CPU per request and throughput while
// sampling against before and after. Every side in a fresh process per run; medians over runs.
//
// v8-profiler-next is a native addon and no dependency of the project; install it apart and name it:
//   mkdir -p /tmp/v8p && cd /tmp/v8p && npm install v8-profiler-next@1.10.0
//   V8_PROFILER_NEXT=/tmp/v8p/node_modules/v8-profiler-next node bench/profiler/compare.js
// Without V8_PROFILER_NEXT only the inspector side is measured.
//   RUNS=1 node bench/profiler/compare.js --out /tmp/p.json --md /tmp/p.md
const { fork } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { once } = require('node:events');
const { parseArgs } = require('node:util');
const autocannon = require('autocannon');
const { machine, median } = require('../agent/lib');

const ROOT = path.join(__dirname, '../..');
const { values: a } = parseArgs({ options: { out: { type: 'string', default: path.join(ROOT, 'bench/results/profiler.json') }, md: { type: 'string', default: path.join(ROOT, 'bench/results/profiler.md') } } });
const RUNS = Number(process.env.RUNS || 5);
const CONNECTIONS = Number(process.env.CONNECTIONS || 8);
const WINDOW_MS = Number(process.env.WINDOW_MS || 3000);
const V8P = process.env.V8_PROFILER_NEXT;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function v8pStatus() {
  if (!V8P) return { available: false, why: 'V8_PROFILER_NEXT not set' };
  try {
    require(V8P);
    return { available: true, version: require(path.join(V8P, 'package.json')).version };
  } catch (err) {
    return { available: false, why: `cannot load ${V8P}: ${err.message.split('\n')[0]}` };
  }
}

async function side(kind) {
  const child = fork(path.join(__dirname, 'app.js'), [], { env: { ...process.env, PROFILER: kind }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const [{ port }] = await once(child, 'message');
  const url = `http://127.0.0.1:${port}/page/30`;
  const load = (ms) => autocannon({ url, connections: CONNECTIONS, duration: ms / 1000 });
  /** CPU µs per request and requests per second between two marks. */
  const rate = (m0, m1, t0, t1) => ({ cpuUsPerReq: (m1.cpuUs - m0.cpuUs) / (m1.served - m0.served), rps: ((m1.served - m0.served) * 1000) / (t1 - t0) });
  const ask = async (cmd, dry) => {
    child.send({ cmd, dry });
    const [m] = await once(child, 'message');
    return m;
  };
  // One window under load; `dry`: the same steps without the profiler, so both read alike.
  const window = async (dry) => {
    const l = load(WINDOW_MS + 1200);
    await sleep(100);
    const start = await ask('start', dry); // 300 ms before, around and after the start itself
    const m0 = await ask('mark');
    const t0 = performance.now();
    await sleep(WINDOW_MS - 300);
    const m1 = await ask('mark');
    const t1 = performance.now();
    const stop = await ask('stop', dry);
    await l;
    return { ...start, ...stop, ...rate(m0, m1, t0, t1) };
  };
  try {
    await load(2000); // warm-up: JIT, connections
    const before = await window(true);
    const first = await window(false);
    const after = await window(true);
    const second = await window(false);
    const offCpu = (before.cpuUsPerReq + after.cpuUsPerReq) / 2;
    const offRps = (before.rps + after.rps) / 2;
    return {
      firstStartMs: first.startMs, secondStartMs: second.startMs,
      firstDelayMaxMs: first.delayMaxMs, secondDelayMaxMs: second.delayMaxMs, afterDelayMaxMs: median([first.afterMaxMs, second.afterMaxMs]), baseDelayMaxMs: median([first.baseMaxMs, second.baseMaxMs]),
      stopMs: first.stopMs, serialiseMs: first.serialiseMs, bytes: first.bytes, samples: first.samples, nodes: first.nodes,
      cpuUsPerReqOff: offCpu, cpuUsPerReqOn: first.cpuUsPerReq, cpuOverhead: first.cpuUsPerReq / offCpu - 1,
      rpsOff: offRps, rpsOn: first.rps, throughputRatio: first.rps / offRps,
    };
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

(async () => {
  const v8p = v8pStatus();
  if (!v8p.available) {
    console.error(`v8-profiler-next: ${v8p.why}; measuring the inspector side only. To include it:\n  mkdir -p /tmp/v8p && cd /tmp/v8p && npm install v8-profiler-next@1.10.0\n  V8_PROFILER_NEXT=/tmp/v8p/node_modules/v8-profiler-next node bench/profiler/compare.js`);
  }
  const kinds = (process.env.SIDES ? process.env.SIDES.split(',') : ['none', 'inspector', ...(v8p.available ? ['v8p-lazy', 'v8p-eager', 'v8p-eager-kept'] : [])]);
  const info = { ...machine(), runs: RUNS, connections: CONNECTIONS, windowMs: WINDOW_MS, samplingUs: 1000, v8ProfilerNext: v8p, at: new Date().toISOString() };
  console.error(`machine: ${JSON.stringify(info)}`);
  const runs = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let r = 0; r < RUNS; r++) {
    // Rotated per run, so no side always goes first.
    for (const k of [...kinds.slice(r % kinds.length), ...kinds.slice(0, r % kinds.length)]) {
      const m = await side(k);
      runs[k].push(m);
      console.error(`run ${r + 1} ${k}: start ${m.firstStartMs.toFixed(1)} / ${m.secondStartMs.toFixed(1)} ms, loop delay max around start ${m.firstDelayMaxMs.toFixed(1)} ms, after ${m.afterDelayMaxMs.toFixed(1)} (before ${m.baseDelayMaxMs.toFixed(1)}), stop ${m.stopMs.toFixed(1)} + serialise ${m.serialiseMs.toFixed(1)} ms, ${m.bytes} B, CPU/req +${(m.cpuOverhead * 100).toFixed(1)}%, rps ×${m.throughputRatio.toFixed(3)}`);
    }
  }
  const keys = Object.keys(runs[kinds[0]][0]);
  const rows = kinds.map((k) => ({ side: k, ...Object.fromEntries(keys.map((key) => [key, median(runs[k].map((m) => m[key]))])), perRun: runs[k] }));
  fs.mkdirSync(path.dirname(a.out), { recursive: true });
  fs.writeFileSync(a.out, JSON.stringify({ machine: info, rows }, null, 2) + '\n');

  const label = { none: 'no profiler (control: the same phases and calls)', inspector: '`node:inspector` Profiler (in-process Session)', 'v8p-lazy': `v8-profiler-next ${v8p.version ?? ''}, lazy logging (its default)`, 'v8p-eager': `v8-profiler-next ${v8p.version ?? ''}, eager logging (mode 1)`, 'v8p-eager-kept': `v8-profiler-next ${v8p.version ?? ''}, eager logging, profiler kept (\`setProfilesCleanupLimit\`)` };
  const f1 = (x) => x.toFixed(1);
  const lines = [
    '| profiler | first start (ms) | later start (ms) | loop delay max: before a start (ms) | around the first start | around a later start | after a start, sampling | stop (ms) | serialise (ms) | profile bytes | CPU per request while sampling | throughput while sampling |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${label[r.side]} | ${f1(r.firstStartMs)} | ${f1(r.secondStartMs)} | ${f1(r.baseDelayMaxMs)} | ${f1(r.firstDelayMaxMs)} | ${f1(r.secondDelayMaxMs)} | ${f1(r.afterDelayMaxMs)} | ${f1(r.stopMs)} | ${f1(r.serialiseMs)} | ${Math.round(r.bytes).toLocaleString('en-US')} | ${r.cpuOverhead >= 0 ? '+' : ''}${(r.cpuOverhead * 100).toFixed(1)}% | ×${r.throughputRatio.toFixed(3)} |`),
  ];
  const md = `# CPU profiling: node:inspector beside v8-profiler-next\n\n` +
    `An Express app (Handlebars, marked, lodash loaded; each request renders a 30-item template and a Markdown snippet) under autocannon, ${CONNECTIONS} connections; ` +
    `sampling every 1 ms (the agent's default), a ${WINDOW_MS} ms window. ${RUNS} runs, each profiler in a fresh process per run, medians. ` +
    `Start and stop are synchronous calls on the event loop (their time is a stall); "loop delay max" is the worst event-loop delay (\`monitorEventLoopDelay\`, 1 ms resolution) in 300 ms before a start, in 300 ms around it (its own stall included), and in the 300 ms after that, sampling, all under the same load. ` +
    `Serialise: \`JSON.stringify\` of the profile (both give the same format: nodes with callFrame, samples, timeDeltas). ` +
    `CPU per request (the process's user + system time, the sampler thread included) and throughput: while sampling, against the mean of the same steps without the profiler just before and just after. The control row runs every step with no profiler at all: its figures are what the method reads from noise alone.\n` +
    (v8p.available ? '' : `\nv8-profiler-next not measured: ${v8p.why}.\n`) +
    `Machine: ${info.cpu}, ${info.cores} cores, Node ${info.node}, load average at start ${info.loadavg.join(' / ')}.\n\n${lines.join('\n')}\n`;
  fs.writeFileSync(a.md, md);
  process.stdout.write(md);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
