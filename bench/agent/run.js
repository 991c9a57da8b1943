'use strict';
// The agent benchmarks (pino style): each scenario file runs --runs times, each run a fresh process;
// medians over the runs, ratios against the targets, machine info. Writes bench/results/agent.json,
// agent.md and agent.svg, and prints the table. Needs `npm run build` first.
//
//   node bench/agent/run.js [--runs 5] [--only overhead,offload-latency,fetch] [--seconds 5] [--requests 200]
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { machine, median } = require('./lib');
const { chart } = require('./chart');

const { values: a } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    only: { type: 'string', default: 'overhead,offload-latency,fetch' },
    seconds: { type: 'string', default: '5' },
    requests: { type: 'string', default: '200' },
    out: { type: 'string', default: path.join(__dirname, '../results') },
  },
});
const RUNS = Number(a.runs);
const only = new Set(a.only.split(','));

function runOnce(file, args) {
  const out = execFileSync(process.execPath, [path.join(__dirname, file), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 });
  return JSON.parse(out.trim().split('\n').pop());
}

function series(name, file, args) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    // overhead.js alternates which side goes first with the run number.
    const r = runOnce(file, file === 'overhead.js' ? [...args, '--run', String(i)] : args);
    runs.push(r);
    process.stderr.write(`${name} run ${i + 1}/${RUNS}: ${JSON.stringify(r).slice(0, 160)}\n`);
  }
  return runs;
}

const pick = (runs, f) => median(runs.map(f));
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

function main() {
  const startMachine = machine();
  const results = { machine: startMachine, runs: RUNS, date: new Date().toISOString(), scenarios: {} };
  const rows = [];
  if (only.has('overhead')) {
    const runs = series('overhead', 'overhead.js', ['--seconds', a.seconds]);
    const s = { runs, plainRps: pick(runs, (r) => r.plain.rps), agentRps: pick(runs, (r) => r.agent.rps), ratio: pick(runs, (r) => r.ratio) };
    results.scenarios.overhead = s;
    rows.push(['agent at ratio 0 vs plain Express: throughput', `${fmt(s.agentRps, 0)} vs ${fmt(s.plainRps, 0)} req/s`, `${fmt(s.ratio, 3)}×`, '≥ 0.98×', s.ratio >= 0.98]);
  }
  if (only.has('offload-latency')) {
    const runs = series('offload-latency', 'offload-latency.js', ['--requests', a.requests]);
    const s = {
      runs,
      localP50: pick(runs, (r) => r.local.p50),
      localP99: pick(runs, (r) => r.local.p99),
      offP50: pick(runs, (r) => r.offloaded.p50),
      offP99: pick(runs, (r) => r.offloaded.p99),
      p50DeltaMs: pick(runs, (r) => r.p50DeltaMs),
      p99Ratio: pick(runs, (r) => r.p99Ratio),
      capture: {},
    };
    for (const id of Object.keys(runs[0].capture ?? {})) {
      s.capture[id] = { captureP50: pick(runs, (r) => r.capture[id]?.captureP50 ?? NaN), bytesP50: pick(runs, (r) => r.capture[id]?.bytesP50 ?? NaN) };
    }
    results.scenarios.offloadLatency = s;
    rows.push(['~20 ms CPU handler, offloaded vs local: p50', `${fmt(s.offP50)} vs ${fmt(s.localP50)} ms`, `+${fmt(s.p50DeltaMs)} ms`, '≤ +1.5 ms', s.p50DeltaMs <= 1.5]);
    rows.push(['~20 ms CPU handler, offloaded vs local: p99', `${fmt(s.offP99)} vs ${fmt(s.localP99)} ms`, `${fmt(s.p99Ratio, 3)}×`, '≤ 1.10×', s.p99Ratio <= 1.1]);
    for (const [id, c] of Object.entries(s.capture)) {
      rows.push([`closure capture p50, ${id}`, `${fmt(c.captureP50, 3)} ms, ${fmt(c.bytesP50 / 1024, 1)} KB`, `${fmt(c.captureP50, 3)} ms`, '≤ 1 ms', c.captureP50 <= 1]);
    }
  }
  if (only.has('fetch')) {
    const runs = series('fetch', 'fetch.js', []);
    const s = { runs, p50: pick(runs, (r) => r.p50), p99: pick(runs, (r) => r.p99) };
    results.scenarios.fetch = s;
    rows.push(['synchronous fallback fetch (callSync Fetch, 158 B object)', `p50 ${fmt(s.p50, 3)} ms, p99 ${fmt(s.p99, 3)} ms`, `${fmt(s.p50, 3)} ms`, '≤ 0.3 ms', s.p50 <= 0.3]);
  }
  results.machineAfter = machine();
  results.table = rows.map(([what, measured, figure, target, met]) => ({ what, measured, figure, target, met }));

  const m = startMachine;
  const md = [
    '# Agent benchmarks',
    '',
    `${m.cores} × ${m.cpu}, ${m.os}, node ${m.node}; load average ${m.loadavg.join(' ')} at the start, ${results.machineAfter.loadavg.join(' ')} at the end; ${RUNS} runs per scenario, each a fresh process; medians over the runs. ${results.date}`,
    '',
    '| scenario | measured (median) | figure | target | met |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(([w, me, f, t, ok]) => `| ${w} | ${me} | ${f} | ${t} | ${ok ? 'yes' : '**no**'} |`),
    '',
    '![per-run figures](agent.svg)',
    '',
  ].join('\n');
  fs.mkdirSync(a.out, { recursive: true });
  fs.writeFileSync(path.join(a.out, 'agent.json'), JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(path.join(a.out, 'agent.md'), md);
  fs.writeFileSync(path.join(a.out, 'agent.svg'), chart(results));
  process.stdout.write(md);
}

main();
