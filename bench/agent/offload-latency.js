'use strict';
// One run of the offload latency scenario: a ~20 ms CPU handler run locally (BEEHIVE_MODE=off) and
// offloaded to warm local workers (BEEHIVE_MODE=always), sequential requests, client-side p50/p99.
// The offloaded app's stats file also gives closure capture time and closure bytes per handler
// (the CPU handler, the demo's preview handler and a trivial one).
//
//   node bench/agent/offload-latency.js [--requests 200] [--warmup 40]
const { parseArgs } = require('node:util');
const { draft } = require('../../examples/demo/seed');
const { startApp, sequential, quantile, emit } = require('./lib');

const { values: a } = parseArgs({ options: { requests: { type: 'string', default: '200' }, warmup: { type: 'string', default: '10' } } });
const N = Number(a.requests);
const W = Number(a.warmup);

async function measure(mode) {
  const app = await startApp({ agent: true, env: { BEEHIVE_MODE: mode, BEEHIVE_WORKERS: '1' } });
  try {
    // Warm-up: JIT on the server and, offloaded, a started worker holding the handler's code.
    await sequential(app.url + '/cpu', W);
    const ms = await sequential(app.url + '/cpu', N);
    let capture;
    if (mode === 'always') {
      const body = JSON.stringify(draft('ada', 12));
      await sequential(app.url + '/preview', 30, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await sequential(app.url + '/hello', 30);
    }
    const stats = await app.stop();
    if (mode === 'always') {
      capture = {};
      for (const h of stats.handlers) {
        if (h.offloaded > 0) capture[h.id] = { captureP50: h.capture?.p50, captureP99: h.capture?.p99, bytesP50: h.closureBytes.p50, offloaded: h.offloaded, local: h.local, failures: h.failures };
      }
    }
    const cpu = stats.handlers.find((h) => h.id === 'GET /cpu');
    return { p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), mean: ms.reduce((s, x) => s + x, 0) / ms.length, local: cpu.local, offloaded: cpu.offloaded, capture };
  } catch (err) {
    await app.stop().catch(() => {});
    throw err;
  }
}

(async () => {
  const local = await measure('off');
  const offloaded = await measure('always');
  if (offloaded.offloaded < N) throw new Error(`only ${offloaded.offloaded} of ${N + W} requests were offloaded`);
  const { capture } = offloaded;
  delete offloaded.capture;
  delete local.capture;
  emit({ scenario: 'offload-latency', local, offloaded, p50DeltaMs: offloaded.p50 - local.p50, p99Ratio: offloaded.p99 / local.p99, capture });
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
