'use strict';
// First offload of each Nest controller with a warm worker, and closure bytes per controller method.
// Builds the conformance app (agent/test/fixtures/nest-conformance) with tsc at ES2022, starts it with
// BEEHIVE_MODE=always and one local worker, warms the worker with one route, then times the first and
// the following calls of one route per controller. Runs --runs fresh processes; medians.
//   node bench/nest/first-offload.js [--runs 5] [--out bench/results]
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const ts = require('typescript');

const ROOT = path.join(__dirname, '../..');
const REGISTER = path.join(ROOT, 'dist/agent/register.js');
const DIR = path.join(ROOT, 'agent/test/fixtures/nest-conformance');
const arg = (k, d) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const RUNS = Number(arg('runs', 5));
const OUT = path.resolve(arg('out', path.join(ROOT, 'bench/results')));

// One route per controller (the warm-up route's controller is measured on another route).
const WARM = ['GET', '/stats/number'];
const ROUTES = [
  ['GET /catalog/:id', 'GET', '/catalog/1'],
  ['GET /config/counter', 'GET', '/config/counter'],
  ['GET /config/resolved', 'GET', '/config/resolved'],
  ['GET /secure/accepted', 'GET', '/secure/accepted', { 'x-token': 'letmein' }],
  ['GET /jobs/delay', 'GET', '/jobs/delay'],
  // Observables are collected on the worker and replayed here: the cost of that choice.
  ['GET /jobs/obs-pipe', 'GET', '/jobs/obs-pipe'],
  ['GET /jobs/sse', 'GET', '/jobs/sse'],
  ['GET /users/count', 'GET', '/users/count'],
  ['GET /wallet/logged', 'GET', '/wallet/logged'],
  ['GET /http/headers', 'GET', '/http/headers?n=1'],
  ['GET /stats/top', 'GET', '/stats/top'],
];
const LATER = 5;

function build() {
  const cfg = ts.readConfigFile(path.join(DIR, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, DIR);
  const outDir = path.join(ROOT, 'test-artifacts', `bench-nest-${process.pid}`);
  const program = ts.createProgram([path.join(DIR, 'app.ts')], { ...parsed.options, target: ts.ScriptTarget.ES2022, outDir, rootDir: DIR });
  const r = program.emit();
  if (r.emitSkipped) throw new Error('tsc failed');
  return path.join(outDir, 'app.js');
}

async function start(entry) {
  const statsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bh-bench-nest-')), 'stats.json');
  const child = spawn(process.execPath, ['-r', REGISTER, entry], {
    cwd: path.dirname(entry),
    env: { ...process.env, BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '1', BEEHIVE_STATS_FILE: statsFile, BEEHIVE_APP_ROOT: ROOT },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = readline.createInterface({ input: child.stdout });
  const [line] = await once(rl, 'line');
  const { port } = JSON.parse(line);
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(fs.readFileSync(statsFile, 'utf8'));
    },
  };
}

async function timed(url, method, p, headers = {}) {
  const t0 = performance.now();
  const r = await fetch(url + p, { method, headers });
  await r.arrayBuffer();
  return performance.now() - t0;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

(async () => {
  const entry = build();
  const runs = [];
  for (let run = 0; run < RUNS; run++) {
    const app = await start(entry);
    // Startup settles (the agent analyses controllers in the background after Nest registers them).
    await new Promise((r) => setTimeout(r, 1500));
    // The worker is started and has run one Nest method: warm.
    await timed(app.url, ...WARM);
    await timed(app.url, ...WARM);
    const rows = {};
    for (const [id, m, p, h] of ROUTES) {
      const first = await timed(app.url, m, p, h);
      const later = [];
      for (let i = 0; i < LATER; i++) later.push(await timed(app.url, m, p, h));
      rows[id] = { first, later: median(later) };
    }
    const stats = await app.stop();
    for (const h of stats.handlers) {
      if (!rows[h.id]) continue;
      rows[h.id].bytes = h.closureBytes?.max ?? h.closureBytes?.p50;
      rows[h.id].captureP50 = h.capture?.p50;
      rows[h.id].offloaded = h.offloaded;
      rows[h.id].reason = h.reason;
    }
    runs.push(rows);
  }
  const summary = ROUTES.map(([id]) => ({
    id,
    firstMs: median(runs.map((r) => r[id].first)),
    laterMs: median(runs.map((r) => r[id].later)),
    closureBytes: median(runs.map((r) => r[id].bytes ?? NaN)),
    captureP50Ms: median(runs.map((r) => r[id].captureP50 ?? NaN)),
    offloaded: runs[0][id].offloaded,
    reason: runs[0][id].reason,
  }));
  const machine = { cpu: os.cpus()[0]?.model.trim(), cores: os.cpus().length, node: process.version, loadavg: os.loadavg().map((x) => Number(x.toFixed(2))) };
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'nest.json'), JSON.stringify({ machine, runs: RUNS, summary, raw: runs }, null, 2));
  const md = [
    `# Nest: first offload per controller (warm worker) and closure bytes`,
    '',
    `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadavg.join(' ')}; ${RUNS} runs, medians.`,
    '',
    'A refused route runs on the server from its first call: its first call pays the capture that finds the reason.',
    '',
    '| route | runs on | first call ms | later calls ms | closure bytes | capture p50 ms |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...summary.map((s) => `| ${s.id} | ${s.offloaded > 0 ? 'worker' : `server (refused: ${String(s.reason ?? '').slice(0, 90).replace(/\|/g, '/')}…)`} | ${s.firstMs.toFixed(1)} | ${s.laterMs.toFixed(1)} | ${s.closureBytes} | ${s.captureP50Ms?.toFixed?.(2)} |`),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(OUT, 'nest.md'), md);
  process.stdout.write(md + '\n');
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
