'use strict';
// The server-state benchmark's app: an lru-cache LRUCache at several sizes (a response cache: get,
// and set on a miss), a WeakMap memo keyed by module records, and tsc-style #private fields kept in
// WeakMaps. Prints {"port":N} once listening.
const express = require('express');
const { LRUCache } = require('lru-cache');

const SIZES = [10, 100, 1000, 5000];
const caches = Object.fromEntries(SIZES.map((n) => {
  const c = new LRUCache({ max: n, ttl: 600_000 });
  for (let i = 0; i < n; i++) c.set(`k${i}`, { id: i, html: `<p>${i}</p>` });
  return [n, c];
}));
const records = Array.from({ length: 50 }, (_, i) => ({ id: i, words: ['a', 'b', String(i)] }));
const memo = new WeakMap();
const balances = new WeakMap();
class Account {
  constructor() { balances.set(this, 0); }
  deposit(n) { balances.set(this, balances.get(this) + n); return balances.get(this); }
}
const accounts = Array.from({ length: 50 }, () => new Account());

const app = express();
app.get('/lru/:n/:k', (req, res) => {
  const c = caches[req.params.n];
  let v = c.get(req.params.k);
  if (!v) c.set(req.params.k, (v = { id: req.params.k, html: '<p>new</p>' }));
  res.json(v);
});
app.get('/memo/:i', (req, res) => {
  const r = records[req.params.i];
  let s = memo.get(r);
  if (!s) memo.set(r, (s = { id: r.id, text: r.words.join(' ') }));
  res.json(s);
});
app.post('/deposit/:i', (req, res) => res.json({ balance: accounts[req.params.i].deposit(1) }));
const server = app.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
