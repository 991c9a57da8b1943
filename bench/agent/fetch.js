'use strict';
// One run of the synchronous fallback micro-benchmark: a real ChannelServer (in this process) with
// an invocation whose lease holds an object, and a real ChannelClient in a child process (callSync
// blocks its thread in Atomics.wait, so it cannot share the server's). The child times `--calls`
// Fetch calls of the leased object, as Invocation.fetchSync does on first touch of a remote reference.
//
//   node bench/agent/fetch.js [--calls 2000]
const { fork } = require('node:child_process');
const { once } = require('node:events');
const { parseArgs } = require('node:util');
const { emit, quantile } = require('./lib');

const DIST = require('node:path').join(__dirname, '../../dist');

if (process.argv[2] === '--child') {
  const { ChannelClient } = require(`${DIST}/offload-worker/channel/client`);
  const { decode } = require(`${DIST}/protocol`);
  // MsgType is a const enum (erased at compile time): Fetch is 2 in protocol/messages.ts.
  const FETCH = 2;
  process.once('message', ({ url, inv, cap, id, calls }) => {
    const client = new ChannelClient(url);
    const ms = [];
    for (let i = 0; i < calls + 200; i++) {
      const t0 = performance.now();
      const reply = client.callSync(FETCH, { inv, cap, id });
      decode(reply.body, { onObject: () => {} });
      if (i >= 200) ms.push(performance.now() - t0); // the first 200 warm the connection and the JIT
    }
    process.send({ ms }, () => process.exit(0));
  });
} else {
  const { values: a } = parseArgs({ options: { calls: { type: 'string', default: '2000' } } });
  const { ChannelServer } = require(`${DIST}/agent/channel/server`);
  const { Invocations } = require(`${DIST}/agent/channel/invocations`);
  const { ExportTable } = require(`${DIST}/gc`);
  (async () => {
    const exportsTable = new ExportTable();
    const invocations = new Invocations();
    const server = new ChannelServer({ host: '127.0.0.1', port: 0, invocations, exports: exportsTable, budget: 64 * 1024, appRoot: __dirname, maxFrameBytes: 8 << 20 });
    const addr = await server.listen();
    // A typical fetched object: a user record with a few nested fields.
    const user = { id: 42, name: 'Ada Lovelace', email: 'ada@example.org', roles: ['admin', 'editor'], prefs: { theme: 'dark', lang: 'en' }, created: new Date(0) };
    const lease = exportsTable.lease();
    const id = lease.grant(user);
    const { record, cap } = invocations.open('GET /bench', lease, new Set());
    const child = fork(__filename, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.send({ url: `ws://127.0.0.1:${addr.port}`, inv: record.id, cap, id, calls: Number(a.calls) });
    const [{ ms }] = await once(child, 'message');
    await once(child, 'exit');
    await server.close();
    emit({ scenario: 'fetch', calls: ms.length, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), bytes: JSON.stringify(user).length });
  })().catch((err) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  });
}
