#!/usr/bin/env node
'use strict';
/**
 * Platform benchmark: per provider (local pool, Lambda emulator, OpenWhisk emulator, through the
 * official clients), cold and warm invoke latency, and the time from an app's first offloaded
 * request to its response when no worker is warm. Every scenario runs in a fresh process.
 * Needs `npm run build` first.
 *
 *   node bench/platforms/run.js [--runs 3] [--cold-runs 5] [--warm 300]
 *
 * Writes bench/results/platforms.json and bench/results/platforms.md, and prints the table.
 * Targets: cold <= 1 s; warm overhead over the local provider <= 5 ms.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const RUNS = Number(args.runs ?? 3);
const COLD_RUNS = String(args['cold-runs'] ?? 5);
const WARM = String(args.warm ?? 300);
const results = path.join(__dirname, '../results');

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const scenario = (file, provider, extra = []) => {
  const out = execFileSync(process.execPath, [path.join(__dirname, file), '--provider', provider, ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 300_000 });
  return JSON.parse(out.trim().split('\n').pop());
};

const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryGB: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  node: process.version,
  loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
  date: new Date().toISOString(),
};

const invoke = {};
for (const p of ['local', 'lambda', 'openwhisk']) {
  const runs = Array.from({ length: RUNS }, () => scenario('invoke.js', p, ['--cold-runs', COLD_RUNS, '--warm', WARM]));
  invoke[p] = {
    coldMedianMs: median(runs.flatMap((r) => r.cold.runs)),
    warmMedianMs: median(runs.map((r) => r.warm.medianMs)),
    warmP99Ms: median(runs.map((r) => r.warm.p99Ms)),
    runs,
  };
}
const first = {};
for (const p of ['off', 'local', 'lambda', 'openwhisk']) {
  const runs = Array.from({ length: RUNS }, () => scenario('first-request.js', p));
  first[p] = { firstMedianMs: median(runs.map((r) => r.firstMs)), nextMedianMs: median(runs.map((r) => r.nextMedianMs)), runs };
}
const overhead = (p) => invoke[p].warmMedianMs - invoke.local.warmMedianMs;
const summary = {
  machine,
  params: { runs: RUNS, coldRuns: Number(COLD_RUNS), warm: Number(WARM) },
  invoke,
  firstRequest: first,
  targets: {
    coldAtMost1s: ['local', 'lambda', 'openwhisk'].every((p) => invoke[p].coldMedianMs <= 1000),
    warmOverheadAtMost5ms: ['lambda', 'openwhisk'].every((p) => overhead(p) <= 5),
  },
};

const f = (x) => x.toFixed(2).padStart(9);
const lines = [
  `Platform benchmark — ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGB} GB, ${machine.os}, Node ${machine.node}, load ${machine.loadavg.join(' ')}`,
  `${RUNS} runs × (${COLD_RUNS} cold invokes, ${WARM} warm invokes); medians in ms`,
  '',
  '| provider  | cold invoke | warm invoke | warm p99 | warm overhead vs local | first request (no warm worker) | next requests |',
  '| --------- | ----------- | ----------- | -------- | ---------------------- | ------------------------------ | ------------- |',
  ...['local', 'lambda', 'openwhisk'].map(
    (p) => `| ${p.padEnd(9)} | ${f(invoke[p].coldMedianMs)}   | ${f(invoke[p].warmMedianMs)}   | ${f(invoke[p].warmP99Ms)}| ${f(overhead(p))}              | ${f(first[p].firstMedianMs)}                      | ${f(first[p].nextMedianMs)}     |`,
  ),
  `| agent off |           — |           — |        — |                      — | ${f(first.off.firstMedianMs)}                      | ${f(first.off.nextMedianMs)}     |`,
  '',
  `targets: cold <= 1 s: ${summary.targets.coldAtMost1s ? 'met' : 'MISSED'}; warm overhead <= 5 ms: ${summary.targets.warmOverheadAtMost5ms ? 'met' : 'MISSED'}`,
];
fs.mkdirSync(results, { recursive: true });
fs.writeFileSync(path.join(results, 'platforms.json'), JSON.stringify(summary, null, 2) + '\n');
fs.writeFileSync(path.join(results, 'platforms.md'), lines.join('\n') + '\n');
process.stdout.write(lines.join('\n') + '\n');
