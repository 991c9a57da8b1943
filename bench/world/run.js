'use strict';
// bench/world: offload latency of a session-using handler and of a handler whose file write is
// deferred to the server, against the same handlers run locally; and what lifetime tracking costs a
// trivial handler on the worker. Each scenario runs --runs times in fresh processes; medians.
// Writes bench/results/world.json and world.md. Needs `npm run build` first.
//
//   node bench/world/run.js [--runs 5] [--requests 200]
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { machine, median } = require('../agent/lib');

const { values: a } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, requests: { type: 'string', default: '200' }, out: { type: 'string', default: path.join(__dirname, '../results') } },
});
const RUNS = Number(a.runs);
const once = (file, args) => JSON.parse(execFileSync(process.execPath, [path.join(__dirname, file), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 }).trim().split('\n').pop());
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

const results = { machine: machine(), runs: RUNS, date: new Date().toISOString(), latency: [], guard: [] };
for (let i = 0; i < RUNS; i++) {
  results.latency.push(once('latency.js', ['--requests', a.requests]));
  results.guard.push(once('guard.js', []));
  process.stderr.write(`run ${i + 1}/${RUNS} done\n`);
}
const rows = [];
for (const k of ['session', 'write', 'trivial']) {
  const m = (side, p) => median(results.latency.map((r) => r[side][k][p]));
  rows.push([k, m('local', 'p50'), m('offloaded', 'p50'), m('local', 'p99'), m('offloaded', 'p99')]);
}
const guardCost = median(results.guard.map((g) => g.costMs));
results.summary = { rows: rows.map(([handler, localP50, offP50, localP99, offP99]) => ({ handler, localP50, offP50, localP99, offP99 })), guardCostMs: guardCost };
results.machine.loadavgAfter = machine().loadavg;
const md = [
  `# bench/world (${RUNS} runs, medians; ${results.machine.cpu}, ${results.machine.cores} cores, load ${results.machine.loadavg.join(' ')} → ${results.machine.loadavgAfter.join(' ')})`,
  '',
  '| handler | local p50 ms | offloaded p50 ms | local p99 ms | offloaded p99 ms |',
  '| --- | --- | --- | --- | --- |',
  ...rows.map(([k, ...v]) => `| ${k} | ${v.map((x) => fmt(x)).join(' | ')} |`),
  '',
  `Lifetime tracking on a trivial handler (worker side, hooks + bookkeeping): ${fmt(guardCost, 4)} ms per invocation (goal < 0.05 ms).`,
  '',
].join('\n');
fs.mkdirSync(a.out, { recursive: true });
fs.writeFileSync(path.join(a.out, 'world.json'), JSON.stringify(results, null, 2));
fs.writeFileSync(path.join(a.out, 'world.md'), md);
process.stdout.write(md);
