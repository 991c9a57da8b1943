'use strict';
// The capacity benchmark's app: a ~15 ms CPU handler (a SHA-256 chain, then a Map update), the demo's
// heaviest handler (the editor preview: Markdown, cover thumbnail, counters under beehive.lock), a
// trivial one, and /warm for the benchmark's worker warm-up. Prints {"port":N} once listening.
const crypto = require('node:crypto');
const express = require('express');
const { previewHandler } = require('../agent/preview');

const ROUNDS = Number(process.env.CAPACITY_ROUNDS || 9000);
const seen = new Map();
const counters = { previews: 0 };
const drafts = new Map();

const app = express();
app.use(express.json({ limit: '1mb' }));
app.get('/cpu/:id', (req, res) => {
  let h = req.params.id;
  for (let i = 0; i < ROUNDS; i++) h = crypto.createHash('sha256').update(h).digest('hex');
  seen.set(req.params.id, (seen.get(req.params.id) ?? 0) + 1);
  res.json({ h: h.slice(0, 16) });
});
app.post('/preview', previewHandler(counters, drafts));
app.get('/trivial', (req, res) => res.json({ ok: true }));
// Serves the benchmark's worker warm-up (a handler of its own, so that the measured handler's first
// offload is its first).
app.get('/warm', (req, res) => res.json({ warm: true }));
const server = app.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
