'use strict';
// The benchmark app: module-level state mutated by a handler; prints {port} as its first line.
const express = require('express');
const app = express();
const stats = { hits: 0 };
const cache = new Map();
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
app.get('/fib/:n', (req, res) => {
  stats.hits++;
  const n = Number(req.params.n);
  if (!cache.has(n)) cache.set(n, fib(n));
  res.json({ n, v: cache.get(n), hits: stats.hits });
});
const server = app.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
