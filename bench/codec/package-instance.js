'use strict';
// Capture time per request of handlers that reach instances of a package class the app constructed
// (agent/test/fixtures/package-instance-app.cjs: `new Marked(...)` then `md.use(...)`), every handler
// offloaded, read from the agent's own per-handler samples in its stats file: the construction log's
// per-capture cost (the instance's state compared with its baseline, the record cached per instance).
// `node bench/codec/package-instance.js`; several runs, a fresh process each; JSON + a readable table.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { captureRun } = require('./capture-run');

const ROUNDS = Number(process.env.ROUNDS || 50);
const RUNS = Number(process.env.RUNS || 3);
const REQS = [['GET', '/md-use'], ['GET', '/md-options'], ['GET', '/plain']];
const root = path.join(__dirname, '../..');

const run = () => captureRun({ root, fixture: path.join(root, 'agent/test/fixtures/package-instance-app.cjs'), reqs: REQS, rounds: ROUNDS });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  const out = { machine: { cpu: os.cpus()[0]?.model.trim(), cores: os.cpus().length, node: process.version, loadavg: os.loadavg() }, rounds: ROUNDS, runs: RUNS, handlers: [] };
  const per = new Map();
  for (let r = 0; r < RUNS; r++) for (const h of await run()) per.set(h.id, [...(per.get(h.id) ?? []), h]);
  for (const [id, hs] of per) out.handlers.push({ id, p50: median(hs.map((h) => h.p50)), p99: median(hs.map((h) => h.p99)), offloaded: median(hs.map((h) => h.offloaded)) });
  fs.mkdirSync(path.join(__dirname, '../results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, '../results/package-instance.json'), JSON.stringify(out, null, 2));
  const lines = ['| handler | capture p50 ms | capture p99 ms | offloaded |', '| --- | ---: | ---: | ---: |', ...out.handlers.map((h) => `| ${h.id} | ${h.p50.toFixed(3)} | ${h.p99.toFixed(3)} | ${h.offloaded} |`)];
  const md = `# Capture time, handlers reaching constructed package instances\n\n${ROUNDS} rounds x ${RUNS} runs (medians); ${out.machine.cpu}, ${out.machine.cores} cores, Node ${out.machine.node}, load ${out.machine.loadavg.map((x) => x.toFixed(2)).join(' ')}.\n\n${lines.join('\n')}\n`;
  fs.writeFileSync(path.join(__dirname, '../results/package-instance.md'), md);
  process.stdout.write(md);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
