'use strict';
// Data at size: a 200k-row module array, one row per request (`GET /table/:i`) and a ~2 MB JSON
// slice of it (`GET /slice/:a`, 20,000 rows).
const express = require('express');
const rows = Array.from({ length: 200_000 }, (_, i) => ({ id: i, name: `row ${i}`, v: i * 2, tags: ['a', 'b'] }));
const app = express();
app.get('/table/:i', (req, res) => res.json(rows[Number(req.params.i)]));
app.get('/slice/:a', (req, res) => {
  const a = Number(req.params.a);
  res.json(rows.slice(a, a + 20_000));
});
app.get('/__stats', (req, res) => res.json(require('beehive').state().handlers.filter((h) => h.id !== 'GET /__stats')));
const server = app.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
