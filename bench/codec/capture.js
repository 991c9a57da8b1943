'use strict';
// Capture time per request for the pattern catalog's handlers (agent/test/fixtures/catalog-app.cjs),
// every handler offloaded (BEEHIVE_MODE=always), read from the agent's own per-handler samples in its
// stats file. Run it against two trees to compare: `node bench/codec/capture.js [ROOT ...]`
// (default: this tree). Several runs per tree, a fresh process each; JSON + a readable table.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { captureRun } = require('./capture-run');

const ROUNDS = Number(process.env.ROUNDS || 20);
const RUNS = Number(process.env.RUNS || 3);
const REQS = [
  ['GET', '/cache/a'], ['POST', '/profile/alice', { city: 'Bergen', tag: 'b' }], ['POST', '/todos', { text: 'x' }], ['GET', '/count'],
  ['POST', '/accounts/acc1/deposit', { n: 1 }], ['GET', '/shapes'], ['GET', '/factory/x'], ['POST', '/helpers', { xs: [1, 2] }],
  ['GET', '/async/abc'], ['GET', '/text'], ['GET', '/headers'], ['GET', '/params/1/two?x=3'], ['GET', '/kinds'], ['GET', '/big/10'],
  ['GET', '/pkg'], ['GET', '/lib'], ['POST', '/users/u1/rename', { name: 'U' }], ['POST', '/tags', { tag: 't' }], ['POST', '/clock'],
  ['POST', '/blob'], ['POST', '/sort'], ['POST', '/alias'], ['GET', '/frozen'], ['POST', '/symbol'], ['POST', '/accessor'], ['GET', '/env'],
];

const run = (root) => captureRun({ root, fixture: path.join(root, 'agent/test/fixtures/catalog-app.cjs'), reqs: REQS, rounds: ROUNDS });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  const roots = process.argv.slice(2).length ? process.argv.slice(2) : [path.join(__dirname, '../..')];
  const out = { machine: { cpu: os.cpus()[0]?.model.trim(), cores: os.cpus().length, node: process.version, loadavg: os.loadavg() }, rounds: ROUNDS, runs: RUNS, trees: [] };
  for (const root of roots) {
    const perHandler = new Map();
    for (let r = 0; r < RUNS; r++) for (const h of await run(path.resolve(root))) perHandler.set(h.id, [...(perHandler.get(h.id) ?? []), h.p50]);
    const rows = [...perHandler].map(([id, p50s]) => ({ id, p50: median(p50s) }));
    out.trees.push({ root: path.resolve(root), handlers: rows, medianOfP50: median(rows.map((r) => r.p50)), maxP50: Math.max(...rows.map((r) => r.p50)) });
  }
  fs.mkdirSync(path.join(__dirname, '../results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, '../results/codec-capture.json'), JSON.stringify(out, null, 2));
  const ids = [...new Set(out.trees.flatMap((t) => t.handlers.map((h) => h.id)))];
  const lines = ['| handler | ' + out.trees.map((t) => `capture p50 ms (${path.basename(t.root)})`).join(' | ') + ' |', '| --- |' + out.trees.map(() => ' ---: |').join('')];
  for (const id of ids) lines.push(`| ${id} | ` + out.trees.map((t) => (t.handlers.find((h) => h.id === id)?.p50 ?? NaN).toFixed(3)).join(' | ') + ' |');
  lines.push('| **median of p50s** | ' + out.trees.map((t) => `**${t.medianOfP50.toFixed(3)}**`).join(' | ') + ' |');
  const md = `# Capture time, pattern catalog handlers\n\n${ROUNDS} rounds x ${RUNS} runs per tree; ${out.machine.cpu}, ${out.machine.cores} cores, Node ${out.machine.node}, load ${out.machine.loadavg.map((x) => x.toFixed(2)).join(' ')}.\n\n${lines.join('\n')}\n`;
  fs.writeFileSync(path.join(__dirname, '../results/codec-capture.md'), md);
  process.stdout.write(md);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
