'use strict';
// The burst benchmark's app: one CPU-heavy handler (a thumbnail-like hashing loop, a few ms) next to
// cheap routes and module-level state, as in the paper's thumbnail service. Prints its port.
const { createHash } = require('node:crypto');
const express = require('express');

const WORK = Number(process.env.BURST_WORK || 2000); // hash rounds per request (~4 ms here)
const stats = { thumbs: 0 };
const app = express();

app.get('/thumb', (req, res) => {
  let h = String(req.query.id || 'img');
  for (let i = 0; i < WORK; i++) h = createHash('sha256').update(h).digest('hex');
  stats.thumbs++;
  res.json({ thumb: h.slice(0, 16), n: stats.thumbs });
});
app.get('/health', (req, res) => res.json({ ok: true }));
app.get('/stats', (req, res) => res.json(stats));

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
