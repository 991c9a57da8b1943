import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ExportTable } from '../../gc';
import { ChannelErrors, decodeFrame, encodeFrame, MsgType } from '../../protocol';
import { ChannelServer } from '../channel/server';
import { Invocations } from '../channel/invocations';
import { ROOT } from './harness';

/** The upgrade a worker sends, with optional credentials. */
function upgradeHead(port: number, auth?: { inv: string; cap: string }): string {
  return [
    'GET / HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ...(auth ? [`x-beehive-inv: ${auth.inv}`, `x-beehive-cap: ${auth.cap}`] : []),
    '',
    '',
  ].join('\r\n');
}

/** The header of one masked binary WebSocket frame of `len` payload bytes (64-bit length form). */
function frameHeader(len: number): Buffer {
  const h = Buffer.alloc(14);
  h[0] = 0x82;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(len), 2);
  h.writeUInt32BE(0x01020304, 10);
  return h;
}

/**
 * One unauthenticated peer: the upgrade, then a 64 MiB frame streamed behind it without waiting
 * for an answer. Resolves with what the server answered and how many bytes the peer got to write.
 */
function oversizedAttempt(port: number): Promise<{ answer: string; written: number }> {
  const total = 64 * 1024 * 1024;
  const chunk = Buffer.alloc(256 * 1024, 0x41);
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let answer = '';
    let written = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      s.destroy();
      resolve({ answer, written });
    };
    s.on('data', (d) => {
      answer += d.toString('latin1');
      // The whole answer is in: stop sending.
      if (/\r\n\r\n[^]*\}$/.test(answer)) finish();
    });
    s.on('error', finish);
    s.on('close', finish);
    s.on('connect', () => {
      s.write(upgradeHead(port));
      s.write(frameHeader(total));
      const pump = () => {
        while (!done && written < total) {
          written += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
      };
      pump();
    });
  });
}

function vmHwmKb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

describe('channel limits before trust', () => {
  const table = new ExportTable();
  const invocations = new Invocations();
  let server: ChannelServer;
  let port: number;

  beforeAll(async () => {
    server = new ChannelServer({ host: '127.0.0.1', port: 0, invocations, exports: table, budget: 1 << 20, appRoot: __dirname, maxFrameBytes: 64 * 1024 * 1024, authTimeoutMs: 300 });
    port = (await server.listen()).port;
  });
  afterAll(async () => {
    await server.close();
  });

  async function unexpected(headers: Record<string, string>): Promise<{ status: number; body: Record<string, string> }> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, { headers });
    ws.on('error', () => {});
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
    let body = '';
    for await (const d of res) body += d;
    ws.terminate();
    return { status: res.statusCode!, body: JSON.parse(body) };
  }

  it('refuses an upgrade without credentials, or with a wrong capability, with a coded 401', async () => {
    const { record } = invocations.open('GET /a', table.lease(), new Set());
    for (const headers of [{}, { 'x-beehive-inv': record.id, 'x-beehive-cap': 'A'.repeat(32) }, { 'x-beehive-inv': 'nope', 'x-beehive-cap': 'A'.repeat(32) }]) {
      const r = await unexpected(headers);
      expect(r.status).toBe(401);
      expect(r.body.code).toBe(ChannelErrors.AUTH.code);
    }
    invocations.close(record.id);
  });

  it('refuses an upgrade with the capability of an invocation that has ended with ENDED', async () => {
    const { record, cap } = invocations.open('GET /b', table.lease(), new Set());
    invocations.close(record.id);
    const r = await unexpected({ 'x-beehive-inv': record.id, 'x-beehive-cap': cap });
    expect(r.status).toBe(401);
    expect(r.body.code).toBe(ChannelErrors.ENDED.code);
  });

  it('closes a connection that never authenticates: silent, or stuck in its request head', async () => {
    const silent = net.connect(port, '127.0.0.1');
    const partial = net.connect(port, '127.0.0.1');
    partial.on('connect', () => partial.write('GET / HTTP/1.1\r\nUpgrade: websocket\r\n'));
    silent.on('error', () => {});
    partial.on('error', () => {});
    await Promise.all([once(silent, 'close'), once(partial, 'close')]);
  });

  it('closes connections beyond the unauthenticated limit at once, keeping the others', async () => {
    const small = new ChannelServer({ host: '127.0.0.1', port: 0, invocations, exports: table, budget: 1 << 20, appRoot: __dirname, maxFrameBytes: 1 << 20, authTimeoutMs: 60_000, maxUnauthenticated: 3 });
    const p = (await small.listen()).port;
    const open = async () => {
      const s = net.connect(p, '127.0.0.1');
      s.on('error', () => {});
      await once(s, 'connect');
      return s;
    };
    const first = [await open(), await open(), await open()];
    let firstClosed = false;
    for (const s of first) s.on('close', () => (firstClosed = true));
    const extra = await open();
    await once(extra, 'close');
    expect(firstClosed).toBe(false);
    for (const s of first) s.destroy();
    await small.close();
  });

  it('keeps an authenticated connection (and its large frames) working after its invocation ends', async () => {
    const lease = table.lease();
    const big = { blob: 'x'.repeat(2 * 1024 * 1024) };
    const id = lease.grant(big);
    const first = invocations.open('GET /c', lease, new Set());
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, { headers: { 'x-beehive-inv': first.record.id, 'x-beehive-cap': first.cap } });
    await once(ws, 'open');
    const ask = async (frame: Buffer) => {
      const reply = once(ws, 'message');
      ws.send(frame);
      return decodeFrame((await reply)[0] as Buffer);
    };
    // A 3 MiB frame (beyond any pre-authentication limit) is read: the connection proved a capability.
    const f = await ask(encodeFrame(MsgType.Fetch, 1, { inv: first.record.id, cap: first.cap, id }, Buffer.alloc(3 * 1024 * 1024)));
    expect(f.type).toBe(MsgType.Ok);
    invocations.close(first.record.id);
    // A worker reuses its connection for its next invocation; every frame still carries a capability.
    const lease2 = table.lease();
    const id2 = lease2.grant({ v: 2 });
    const second = invocations.open('GET /c', lease2, new Set());
    const g = await ask(encodeFrame(MsgType.Fetch, 2, { inv: second.record.id, cap: second.cap, id: id2 }));
    expect(g.type).toBe(MsgType.Ok);
    const h = await ask(encodeFrame(MsgType.Fetch, 3, { inv: second.record.id, cap: first.cap, id: id2 }));
    expect(h.header.code).toBe(ChannelErrors.AUTH.code);
    invocations.close(second.record.id);
    ws.close();
  });
});

describe('channel memory under unauthenticated oversized frames', () => {
  let child: ChildProcess;
  let port: number;

  beforeAll(async () => {
    // The channel as the agent configures it (64 MiB frames once authenticated), alone in a process
    // so that its peak memory can be read.
    const script = `
      const { ChannelServer } = require(${JSON.stringify(path.join(ROOT, 'dist/agent/channel/server.js'))});
      const { Invocations } = require(${JSON.stringify(path.join(ROOT, 'dist/agent/channel/invocations.js'))});
      const { ExportTable } = require(${JSON.stringify(path.join(ROOT, 'dist/gc/index.js'))});
      const s = new ChannelServer({ host: '127.0.0.1', port: 0, invocations: new Invocations(), exports: new ExportTable(), budget: 1 << 20, appRoot: process.cwd(), maxFrameBytes: 64 * 1024 * 1024, authTimeoutMs: 5000 });
      s.listen().then((a) => console.log(JSON.stringify({ port: a.port })));
      setInterval(() => {}, 1 << 30);
    `;
    child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(readline.createInterface({ input: child.stdout! }), 'line')) as [string];
    port = JSON.parse(line).port;
  });
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('refuses eight concurrent 64 MiB frames before authentication with a coded 401, memory bounded', async () => {
    const before = vmHwmKb(child.pid!);
    const results = await Promise.all(Array.from({ length: 8 }, () => oversizedAttempt(port)));
    for (const r of results) {
      expect(r.answer).toMatch(/^HTTP\/1\.1 401 /);
      expect(r.answer).toContain(ChannelErrors.AUTH.code);
    }
    const grownMb = (vmHwmKb(child.pid!) - before) / 1024;
    // Eight buffered frames would be 512 MiB; nothing of them is kept.
    expect(grownMb).toBeLessThan(16);
    // And the server still answers.
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    ws.on('error', () => {});
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
    expect(res.statusCode).toBe(401);
    ws.terminate();
  });
});
