'use strict';
// The elastic benchmark's app: `GET /work` blocks its thread for ELASTIC_BLOCK_MS with Atomics.wait
// on a SharedArrayBuffer. On the server that stalls the event loop exactly as CPU work would (ELU 1,
// nothing else runs), but it consumes no core; on a worker it holds the worker, not a CPU. So 16-32
// local workers on a 2-core machine behave like elastic FaaS instances: capacity grows with their
// number, as it would with instances on other machines. Prints `listening PORT ADMIN_URL`.
//
// ELASTIC_TRACE=FILE: the burst controller's decisions (signals, estimates, ratios) are written there
// as JSON on SIGTERM: the recorded traces the controller's unit tests replay.
const fs = require('node:fs');
const express = require('express');

const BLOCK_MS = Number(process.env.ELASTIC_BLOCK_MS || 20);
const app = express();

app.get('/work', (req, res) => {
  // ?ms= for the warm-up only: requests that hold a worker long enough that every worker starts.
  const ms = Number(req.query.ms) > 0 ? Math.min(5000, Number(req.query.ms)) : BLOCK_MS;
  // A fresh buffer per request: nothing shared to capture, and nobody ever notifies it.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  res.json({ id: req.query.id ?? null, blockedMs: ms });
});
app.get('/health', (req, res) => res.json({ ok: true }));

const withAgent = Object.keys(require.cache).some((f) => /[\\/]agent[\\/]register\.js$/.test(f));
const trace = [];
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
if (withAgent && process.env.ELASTIC_TRACE) {
  const { currentAgent } = require('../../dist/agent');
  const hook = setInterval(() => {
    const c = currentAgent()?.control.controller;
    if (!c) return;
    clearInterval(hook);
    c.on('decision', (e) => {
      const { estimates: est, signals } = e;
      trace.push({
        at: Date.now(),
        ratio: e.ratio,
        ratios: e.ratios,
        action: e.action,
        why: e.why,
        demand: Math.round(e.demand * 1000) / 1000,
        saturated: e.saturated,
        prewarm: e.prewarm,
        estimates: { offloadCostMs: est.offloadCostMs, baseMs: est.baseMs, cpuShare: est.cpuShare, workerRps: Number.isFinite(est.workerRps) ? est.workerRps : null },
        signals: { ...signals, workerSlots: Number.isFinite(signals.workerSlots) ? signals.workerSlots : null },
      });
    });
  }, 10);
  hook.unref();
}

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', async () => {
  process.stdout.write(`listening ${server.address().port} ${await adminUrl()}\n`);
});
process.on('SIGTERM', () => {
  if (process.env.ELASTIC_TRACE) fs.writeFileSync(process.env.ELASTIC_TRACE, JSON.stringify(trace));
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
