'use strict';
// The app of the agent benchmarks: a trivial handler, a CPU-bound one (~20 ms), the demo's preview
// handler (Markdown, cover thumbnail, module state under beehive.lock) and one that reads a large
// module-level object (beyond a small closure budget it travels as a remote reference).
// Prints {"port":N} once listening.
const express = require('express');
const { previewHandler } = require('./preview');

const counters = { hello: 0, cpu: 0, previews: 0 };
const drafts = new Map();
const catalog = { items: Array.from({ length: 2000 }, (_, i) => ({ id: i, name: `item-${i}`, price: i * 3 })) };
const CPU_ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 100000);

/** Pure JavaScript work, the same amount on every call (a hash chain, FNV over a small buffer). */
function work(rounds) {
  let h = 2166136261;
  for (let r = 0; r < rounds; r++) for (let i = 0; i < 64; i++) h = Math.imul(h ^ ((r + i) & 255), 16777619) >>> 0;
  return h;
}

const app = express();
app.use(express.json({ limit: '1mb' }));
app.get('/hello', (req, res) => {
  counters.hello++;
  res.json({ hello: 'world' });
});
app.get('/cpu', (req, res) => {
  res.json({ h: work(CPU_ROUNDS) });
});
app.post('/preview', previewHandler(counters, drafts));
app.get('/price/:id', (req, res) => {
  const item = catalog.items[Number(req.params.id)];
  res.json({ price: item ? item.price : null });
});
const server = app.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
