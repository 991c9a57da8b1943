'use strict';
// The contention benchmark's app: the paper's pybbs "comment" shape — CPU work, then an unlocked
// bump of a shared counter that the response shows. The work is a fixed number of iterations
// (calibrated once, at start, to ~WORK_MS on this machine), so that its CPU cost is the same on the
// server and on a worker whatever the machine's load.
const express = require('express');

function spin(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x * 31 + i) | 0;
  return x;
}
const WORK_MS = Number(process.env.WORK_MS || 8);
const ITERATIONS = (() => {
  spin(1e6);
  const t0 = process.cpuUsage();
  const probe = 2e7;
  spin(probe);
  const d = process.cpuUsage(t0);
  return Math.max(1, Math.round((probe * WORK_MS * 1000) / (d.user + d.system)));
})();

const site = { views: 0 };
const app = express();
app.get('/comment', (req, res) => {
  const checksum = spin(ITERATIONS);
  site.views++;
  res.json({ views: site.views, checksum });
});
// The warm-up's route: the same work, no shared state (so that the measured run starts with
// `site` cold, and its first conflicts and retries are counted). With WARM_CHANNEL=1 it also loads
// a module of the app through the worker's module fallback, so that each worker's channel
// connection to the server (a one-time cost per worker, like its start) is open before the run.
const WARM_CHANNEL = process.env.WARM_CHANNEL === '1';
app.get('/warm', (req, res) => res.json({ checksum: spin(ITERATIONS), warm: WARM_CHANNEL ? require('./warm-dep').ok : undefined }));
app.get('/views', (req, res) => res.json({ views: site.views, iterations: ITERATIONS }));
// The agent's counters (conflicts, retries, where responses came from), for the benchmark.
app.get('/__stats', (req, res) => {
  const totals = { ...require('beehive').state().totals };
  const h = require('beehive').state().handlers.find((x) => x.id === 'GET /comment');
  res.json({ ...totals, conflictsByReason: h ? h.conflictsByReason : {} });
});
const server = app.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
