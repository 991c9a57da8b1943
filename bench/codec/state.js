'use strict';
// What server state that no copy carries costs an offload: an lru-cache LRUCache (carried by its
// public state, so its dump grows with its size), a WeakMap memo and #private fields kept in
// WeakMaps (answered one entry at a time by the server). For each route, sequentially, one request at
// a time: latency p50 local (agent off) and offloaded (every handler offloaded, warm workers), and
// from the agent's own samples the capture time p50, the closure bytes p50 and the fallbacks (server
// round trips) per invocation. Several runs, a fresh process each; medians; JSON + a readable table.
//
//   npm run build && node bench/codec/state.js            # bench/results/state.{json,md}
//   RUNS=1 N=50 node bench/codec/state.js --out /tmp/s.json --md /tmp/s.md
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { machine, median, startApp } = require('../agent/lib');

const ROOT = path.join(__dirname, '../..');
const { values: a } = parseArgs({ options: { out: { type: 'string', default: path.join(ROOT, 'bench/results/state.json') }, md: { type: 'string', default: path.join(ROOT, 'bench/results/state.md') } } });
const RUNS = Number(process.env.RUNS || 3);
const N = Number(process.env.N || 200);
const ROUTES = [
  ['LRUCache, 10 entries', 'GET /lru/:n/:k', (i) => `/lru/10/k${i % 10}`],
  ['LRUCache, 100 entries', 'GET /lru/:n/:k', (i) => `/lru/100/k${i % 100}`],
  ['LRUCache, 1,000 entries', 'GET /lru/:n/:k', (i) => `/lru/1000/k${i % 1000}`],
  ['LRUCache, 5,000 entries', 'GET /lru/:n/:k', (i) => `/lru/5000/k${i % 5000}`],
  ['WeakMap memo', 'GET /memo/:i', (i) => `/memo/${i % 50}`],
  ['#private in WeakMaps (tsc)', 'POST /deposit/:i', (i) => `/deposit/${i % 50}`],
];

/** The app with the agent in `mode`, only `route` a candidate; its stop() returns the agent's stats. */
function start(mode, route) {
  return startApp({ agent: true, app: path.join(__dirname, 'state-app.js'), env: { BEEHIVE_MODE: mode, BEEHIVE_ROUTES: route, BEEHIVE_WORKERS: '1', BEEHIVE_QUIET: '1' } });
}

async function measure(mode, route, pathOf) {
  const app = await start(mode, route);
  const method = route.split(' ')[0];
  const lat = [];
  try {
    for (let i = 0; i < N + 20; i++) {
      const t0 = performance.now();
      const r = await fetch(app.url + pathOf(i), { method });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`${route}: HTTP ${r.status}`);
      if (i >= 20) lat.push(performance.now() - t0); // the first 20 warm the JIT and the worker
    }
  } finally {
    var stats = await app.stop();
  }
  const h = stats.handlers.find((x) => x.id === route);
  return { p50: median(lat), capture: h?.capture?.p50, bytes: h?.closureBytes?.p50, fallbacks: h && h.offloaded ? h.fallbacks / h.offloaded : undefined, offloaded: h?.offloaded ?? 0, local: h?.local ?? 0, reason: h?.reason };
}

(async () => {
  const info = { ...machine(), runs: RUNS, requests: N, at: new Date().toISOString() };
  console.error(`machine: ${JSON.stringify(info)}`);
  const rows = [];
  for (const [name, route, pathOf] of ROUTES) {
    const local = [];
    const off = [];
    for (let r = 0; r < RUNS; r++) {
      local.push(await measure('off', route, pathOf));
      off.push(await measure('always', route, pathOf));
    }
    const row = {
      name, route,
      localP50: median(local.map((x) => x.p50)), offP50: median(off.map((x) => x.p50)),
      captureP50: median(off.map((x) => x.capture)), closureBytes: median(off.map((x) => x.bytes)), fallbacksPerInvocation: median(off.map((x) => x.fallbacks)),
      allOffloaded: off.every((x) => x.offloaded === N + 20 && x.local === 0), reason: off.find((x) => x.reason)?.reason,
      runs: { local, off },
    };
    rows.push(row);
    console.error(`${name}: local ${row.localP50.toFixed(2)} ms, offloaded ${row.offP50.toFixed(2)} ms, capture ${row.captureP50?.toFixed(3)} ms, ${row.closureBytes} B, ${row.fallbacksPerInvocation?.toFixed(2)} fallbacks/inv`);
  }
  fs.mkdirSync(path.dirname(a.out), { recursive: true });
  fs.writeFileSync(a.out, JSON.stringify({ machine: info, rows }, null, 2) + '\n');
  const lines = ['| state | p50 local (ms) | p50 offloaded (ms) | capture p50 (ms) | closure bytes p50 | fallbacks / invocation | every request offloaded |', '| --- | ---: | ---: | ---: | ---: | ---: | :---: |'];
  for (const r of rows) lines.push(`| ${r.name} | ${r.localP50.toFixed(2)} | ${r.offP50.toFixed(2)} | ${r.captureP50?.toFixed(3) ?? '–'} | ${r.closureBytes ?? '–'} | ${r.fallbacksPerInvocation?.toFixed(2) ?? '–'} | ${r.allOffloaded ? 'yes' : `no${r.reason ? `: ${r.reason}` : ''}`} |`);
  const md = `# Server state no copy carries: what an offload of it costs\n\n${RUNS} runs (fresh processes), ${N} sequential requests each after 20 of warm-up, medians; one warm local worker.\nMachine: ${info.cpu}, ${info.cores} cores, Node ${info.node}, load average at start ${info.loadavg.join(' / ')}.\n\n${lines.join('\n')}\n`;
  fs.writeFileSync(a.md, md);
  process.stdout.write(md);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
