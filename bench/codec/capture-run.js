'use strict';
// One run of a capture benchmark: a fixture app in a fresh process, every handler offloaded
// (BEEHIVE_MODE=always, one worker, a 16 KB closure budget), `rounds` passes over `reqs`, then the
// agent's own per-handler capture samples from its stats file.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { once } = require('node:events');

async function captureRun({ root, fixture, reqs, rounds }) {
  const statsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bh-capture-')), 'stats.json');
  const child = spawn(process.execPath, ['-r', path.join(root, 'dist/agent/register.js'), fixture], {
    cwd: path.dirname(fixture),
    env: { ...process.env, BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '1', BEEHIVE_CLOSURE_BUDGET: '16384', BEEHIVE_STATS_FILE: statsFile, BEEHIVE_APP_ROOT: root, BEEHIVE_ADMIN: '127.0.0.1:0', EXPRESS_PKG: 'express' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const rl = readline.createInterface({ input: child.stdout });
  const [line] = await once(rl, 'line');
  const base = `http://127.0.0.1:${JSON.parse(line).port}`;
  for (let i = 0; i < rounds; i++) {
    for (const [method, p, body] of reqs) {
      const r = await fetch(base + p, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
      await r.arrayBuffer();
    }
  }
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
  const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
  return stats.handlers.filter((h) => h.capture && h.capture.count > 0).map((h) => ({ id: h.id, p50: h.capture.p50, p99: h.capture.p99, n: h.capture.count, offloaded: h.offloaded }));
}

module.exports = { captureRun };
