import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportTable } from '../../gc';
import { MsgType } from '../../protocol';
import { ChannelServer } from '../../agent/channel/server';
import { Invocations } from '../../agent/channel/invocations';
import { LockManager } from '../../agent/locks';

// A fresh worker's warm-up (offload-worker/warm-up.ts): the channel's helper thread started before
// the first invocation must serve that invocation's calls, synchronous and not, as a thread started
// for it would. The worker side runs in a process of its own from dist/, as a worker does (a
// synchronous call blocks its thread, which must not be the server's).
const dist = path.resolve(__dirname, '../../dist/offload-worker');
const WORKER = `
const client = require(${JSON.stringify(path.join(dist, 'channel/client.js'))});
const { warmUpWorker } = require(${JSON.stringify(path.join(dist, 'warm-up.js'))});
const { decode } = require(${JSON.stringify(path.resolve(dist, '../protocol/index.js'))});
const FETCH = ${MsgType.Fetch};
const [a, b, c] = JSON.parse(process.env.CALLS);
const url = process.env.URL;
const out = { before: client.spareThread() };
if (process.env.WARM) {
  warmUpWorker();
  out.warmed = client.spareThread();
  warmUpWorker();
}
const ch = client.channelFor(url);
out.taken = !client.spareThread();
out.sync = decode(ch.callSync(FETCH, { inv: a.inv, cap: a.cap, id: a.id }).body, { onObject: () => {} });
ch.call(FETCH, { inv: b.inv, cap: b.cap, id: b.id }).then((r) => {
  out.async = decode(r.body, { onObject: () => {} });
  client.dropChannel(url);
  const other = client.channelFor(url);
  out.second = decode(other.callSync(FETCH, { inv: c.inv, cap: c.cap, id: c.id }).body, { onObject: () => {} });
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
});
`;

describe('a worker warmed up before its first invocation', () => {
  const exportsTable = new ExportTable();
  const invocations = new Invocations(new LockManager());
  let server: ChannelServer;
  let url: string;

  beforeAll(async () => {
    server = new ChannelServer({ host: '127.0.0.1', port: 0, invocations, exports: exportsTable, budget: 1 << 20, appRoot: __dirname, maxFrameBytes: 64 * 1024 });
    url = `ws://127.0.0.1:${(await server.listen()).port}`;
  });
  afterAll(async () => {
    await server.close();
  });

  function open(value: object): { inv: string; cap: string; id: number } {
    const lease = exportsTable.lease();
    const id = lease.grant(value);
    const { record, cap } = invocations.open('GET /warm', lease, new Set());
    return { inv: record.id, cap, id };
  }

  async function worker(warm: boolean): Promise<Record<string, unknown>> {
    const calls = [open({ n: 1, nested: { ok: true } }), open({ n: 2 }), open({ n: 3 })];
    const child = spawn(process.execPath, ['-e', WORKER], { env: { ...process.env, URL: url, CALLS: JSON.stringify(calls), ...(warm ? { WARM: '1' } : {}) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    return JSON.parse(out);
  }

  it('starts the helper thread once; the first client takes it and is served through it', async () => {
    expect(await worker(true)).toEqual({ before: false, warmed: true, taken: true, sync: { n: 1, nested: { ok: true } }, async: { n: 2 }, second: { n: 3 } });
  });

  it('without a warm-up, each client starts its own thread, as before', async () => {
    expect(await worker(false)).toEqual({ before: false, taken: true, sync: { n: 1, nested: { ok: true } }, async: { n: 2 }, second: { n: 3 } });
  });
});
