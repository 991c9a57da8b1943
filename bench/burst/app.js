'use strict';
// The burst benchmark's app: one CPU-heavy handler (a thumbnail-like hashing loop, ~10 ms with the
// runner's default BURST_WORK) next to cheap routes and module-level state, as in the paper's
// thumbnail service. Prints `listening PORT ADMIN_URL` (ADMIN_URL is `-` without the agent).
const { createHash } = require('node:crypto');
const express = require('express');

const WORK = Number(process.env.BURST_WORK || 2000); // hash rounds per request
// Whether /thumb also writes shared state on every request (BURST_COUNTER):
//   none   it only reads module-level state (the sizes table): the default;
//   lock   it counts under beehive.lock (the README's way for state every request writes);
//   plain  a bare `stats.thumbs++` (on a worker, a commit that conflicts with a concurrent one is
//          discarded and the request runs again locally).
const COUNTER = process.env.BURST_COUNTER || 'none';
const sizes = { s: 64, m: 128, l: 256 };
const beehive = COUNTER === 'lock' ? require('../../dist') : undefined;
const stats = { thumbs: 0 };
const app = express();

app.get('/thumb', async (req, res) => {
  const size = sizes[req.query.size] ?? sizes.m;
  let h = `${req.query.id || 'img'}@${size}`;
  for (let i = 0; i < WORK; i++) h = createHash('sha256').update(h).digest('hex');
  if (COUNTER === 'lock') await beehive.lock('stats', () => void stats.thumbs++);
  else if (COUNTER === 'plain') stats.thumbs++;
  // The count stays out of the response: a shadow run reads the live counter later than the local
  // run did, and a response that shows it would differ and hold the handler back.
  res.json({ thumb: h.slice(0, 16), size });
});
app.get('/health', (req, res) => res.json({ ok: true }));
app.get('/stats', (req, res) => res.json(stats));

// With the agent loaded (`-r dist/agent/register.js`), its admin URL is in its state once the admin
// API listens (BEEHIVE_ADMIN=127.0.0.1:0 picks a free port).
const withAgent = Object.keys(require.cache).some((f) => /[\\/]agent[\\/]register\.js$/.test(f));
async function adminUrl() {
  if (!withAgent) return '-';
  const bh = require('../../dist');
  for (let i = 0; i < 100; i++) {
    const url = bh.state()?.adminUrl;
    if (url) return url;
    await new Promise((r) => setTimeout(r, 20));
  }
  return '-';
}

// BURST_TRACE=FILE: the burst controller's decisions, written there as JSON on SIGTERM.
const trace = [];
if (withAgent && process.env.BURST_TRACE) {
  const { currentAgent } = require('../../dist/agent');
  const hook = setInterval(() => {
    const c = currentAgent()?.control.controller;
    if (!c) return;
    clearInterval(hook);
    c.on('decision', (e) => trace.push({ at: Date.now(), ratio: e.ratio, action: e.action, why: e.why, demand: e.demand, load: e.load, estimates: e.estimates, signals: e.signals }));
  }, 10);
  hook.unref();
}

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', async () => {
  process.stdout.write(`listening ${server.address().port} ${await adminUrl()}\n`);
});
process.on('SIGTERM', () => {
  if (process.env.BURST_TRACE) require('node:fs').writeFileSync(process.env.BURST_TRACE, JSON.stringify(trace));
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
