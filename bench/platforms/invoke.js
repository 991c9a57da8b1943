#!/usr/bin/env node
'use strict';
/**
 * One scenario, one provider, in this fresh process: cold invoke latency (a fresh emulator or pool
 * per run, so no instance is warm) and warm invoke latency (sequential invokes on a warm instance).
 * The worker is the real runtime behind the real adapter; the event is answered by the runtime's
 * validation (a coded {ok:false}), so the figures are the invoke path itself, not handler work.
 *
 *   node bench/platforms/invoke.js --provider local|lambda|openwhisk [--cold-runs 5] [--warm 300]
 *
 * Prints one JSON line.
 */
const path = require('node:path');
const root = path.join(__dirname, '../..');
const { startTestPlatform } = require(path.join(root, 'dist/infra/index.js'));

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const PROVIDER = args.provider ?? 'lambda';
const COLD_RUNS = Number(args['cold-runs'] ?? 5);
const WARM = Number(args.warm ?? 300);

let n = 0;
const event = () => ({ beehive: 1, inv: `bench-${++n}`, cap: 'bench', channel: 'ws://127.0.0.1:1/', closureRef: 'bench', timeoutMs: 5000 });

async function open() {
  // The agent's own provider factory, as BEEHIVE_PLATFORM picks it (a FaaS one reads the platform's variables).
  const { createProvider } = require(path.join(root, 'dist/agent'));
  if (PROVIDER === 'local') {
    const provider = createProvider({ platform: 'local', workers: 1, appRoot: root });
    return { provider, close: () => provider.close() };
  }
  const platform = await startTestPlatform(PROVIDER, { memoryMB: 512 });
  Object.assign(process.env, platform.env);
  const provider = createProvider({ platform: PROVIDER });
  return { provider, close: async () => (await provider.close(), await platform.close()) };
}

async function timed(provider) {
  const t = process.hrtime.bigint();
  const r = await provider.invoke(event(), { timeoutMs: 10_000 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (!r || r.beehive !== 1) throw new Error('unexpected result ' + JSON.stringify(r));
  return ms;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

// The local pool unrefs its workers (they must not keep an app alive): keep this process up.
const keepAlive = setInterval(() => {}, 1 << 30);

(async () => {
  const cold = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const { provider, close } = await open();
    cold.push(await timed(provider));
    await close();
  }
  const { provider, close } = await open();
  await timed(provider);
  for (let i = 0; i < 20; i++) await timed(provider); // let the JIT settle
  const warm = [];
  for (let i = 0; i < WARM; i++) warm.push(await timed(provider));
  const stats = provider.stats();
  await close();
  process.stdout.write(JSON.stringify({
    provider: PROVIDER,
    cold: { runs: cold, medianMs: median(cold) },
    warm: { n: warm.length, medianMs: median(warm), p90Ms: pct(warm, 90), p99Ms: pct(warm, 99) },
    billed: { billedMs: stats.billedMs, gbSeconds: stats.gbSeconds, usd: stats.cost ? stats.cost.usd : 0 },
  }) + '\n');
  clearInterval(keepAlive);
})().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
