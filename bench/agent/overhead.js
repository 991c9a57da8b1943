'use strict';
// One run of the overhead scenario: the same app without the agent and with it installed at ratio 0
// (BEEHIVE_MODE=manual BEEHIVE_RATIO=0), each in a fresh process, driven by autocannon on a trivial
// handler. The order alternates with the run number so neither side always goes first.
//
//   node bench/agent/overhead.js [--seconds 5] [--connections 16] [--run N]
const { parseArgs } = require('node:util');
const autocannon = require('autocannon');
const { startApp, emit } = require('./lib');

const { values: a } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '16' }, run: { type: 'string', default: '0' } } });

async function measure(agent) {
  const app = await startApp({ agent, env: agent ? { BEEHIVE_MODE: 'manual', BEEHIVE_RATIO: '0' } : {} });
  try {
    // One second of warm-up (JIT), not counted.
    await autocannon({ url: app.url + '/hello', connections: Number(a.connections), duration: 1 });
    const r = await autocannon({ url: app.url + '/hello', connections: Number(a.connections), duration: Number(a.seconds) });
    return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx + r.errors };
  } finally {
    await app.stop();
  }
}

(async () => {
  const order = Number(a.run) % 2 === 0 ? [false, true] : [true, false];
  const out = {};
  for (const agent of order) out[agent ? 'agent' : 'plain'] = await measure(agent);
  emit({ scenario: 'overhead', ...out, ratio: out.agent.rps / out.plain.rps });
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
