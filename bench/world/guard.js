'use strict';
// One run: what lifetime tracking costs a trivial handler on the worker. The same trivial handler
// (it builds a small object and "responds") runs N times plainly and N times under the worker's
// guard (async hooks enabled, then the wait for pending work, which costs one event-loop turn).
//
//   node bench/world/guard.js [--n 20000]
const path = require('node:path');
const { parseArgs } = require('node:util');
const { WorldGuard, withWorld } = require(path.join(__dirname, '../../dist/offload-worker'));

const { values: a } = parseArgs({ options: { n: { type: 'string', default: '20000' } } });
const N = Number(a.n);
let sink = 0;
const handler = () => {
  const o = { hello: 'world', n: sink };
  sink += JSON.stringify(o).length;
};

async function plain() {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    await (async () => handler())();
    await new Promise((r) => setImmediate(r));
  }
  return (performance.now() - t0) / N;
}
async function guarded() {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const g = new WorldGuard([]);
    await withWorld(g, async () => {
      handler();
      await g.settle(performance.now() + 30_000);
    });
  }
  return (performance.now() - t0) / N;
}

(async () => {
  // Warm-up, then alternate.
  await plain();
  await guarded();
  const p = await plain();
  const g = await guarded();
  // Both loops wait one event-loop turn per invocation (the plain one too), so the difference is
  // the guard's own cost: the hooks and its bookkeeping.
  process.stdout.write(JSON.stringify({ scenario: 'world-guard', n: N, plainMs: p, guardedMs: g, costMs: g - p }) + '\n');
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
