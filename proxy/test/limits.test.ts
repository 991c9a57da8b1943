import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { MessageReader } from '../wire/reader';
import { freePort, usePg } from './pg-server';
import { errorCode, msg, rawSocket, startupMessage } from './helpers';

const server = usePg();
const token = 'control-token-0123456789abcdef';
let proxy: ProxyHandle;

beforeAll(async () => {
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 3, maxClients: 20, control: { port: 0, token } });
});
afterAll(async () => {
  await proxy?.close();
});

const stillServes = async (port = proxy.address.port) => {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'secret-pw', database: 'postgres' });
  await c.connect();
  expect((await c.query('SELECT 41 + 1 AS n')).rows[0].n).toBe(42);
  await c.end();
};
/** The header of a message claiming `len` bytes of body, with nothing after it. */
const header = (code: string, bodyLen: number) => {
  const h = Buffer.alloc(5);
  h.write(code, 0, 'latin1');
  h.writeInt32BE(bodyLen + 4, 1);
  return h;
};
/** A raw socket that has sent its startup packet and got AuthenticationSASL. */
const atSasl = async (port = proxy.address.port) => {
  const s = await rawSocket(port);
  s.socket.write(startupMessage({ user: 'postgres', database: 'postgres' }));
  await s.waitFor((b) => b.length > 0 && b[0] === 0x52);
  return s;
};

describe('limits before authentication', () => {
  it('a startup packet over 10,000 bytes is refused at its header with 08P01', async () => {
    const s = await rawSocket(proxy.address.port);
    const h = Buffer.alloc(8);
    h.writeInt32BE(10_001, 0);
    h.writeInt32BE(196608, 4);
    s.socket.write(h);
    await s.closed;
    expect(errorCode(s.received())).toBe('08P01');
    expect(s.received().toString('latin1')).toMatch(/message too large/);
  });

  it('a password message over 64 KiB is refused at its header, before its body arrives', async () => {
    const s = await atSasl();
    s.socket.write(header('p', 64 * 1024 * 1024));
    await s.closed;
    expect(errorCode(s.received().subarray(s.received().indexOf(0x45)))).toBe('08P01');
    await stillServes();
  });

  it('nothing is streamed before authentication: a large CopyData is refused, not buffered', async () => {
    const s = await atSasl();
    s.socket.write(header('d', 10 * 1024 * 1024));
    await s.closed;
    expect(errorCode(s.received().subarray(s.received().indexOf(0x45)))).toBe('08P01');
  });

  it('a socket that never authenticates is closed after loginTimeoutMs, with FATAL 08006', async () => {
    const quick = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 1, loginTimeoutMs: 1000 });
    try {
      const silent = await rawSocket(quick.address.port);
      const stalled = await atSasl(quick.address.port);
      await Promise.all([silent.closed, stalled.closed]);
      expect(errorCode(silent.received())).toBe('08006');
      expect(silent.received().toString('latin1')).toMatch(/no login within 1000 ms/);
      expect(errorCode(stalled.received().subarray(stalled.received().indexOf(0x45)))).toBe('08006');
      await stillServes(quick.address.port);
    } finally {
      await quick.close();
    }
  });

  it('unauthenticated sockets count against maxClients', async () => {
    const strangers = await Promise.all(Array.from({ length: 20 }, () => rawSocket(proxy.address.port)));
    const extra = await rawSocket(proxy.address.port);
    await extra.closed;
    expect(errorCode(extra.received())).toBe('53300');
    for (const s of strangers) s.socket.destroy();
    await Promise.all(strangers.map((s) => s.closed));
  });
});

describe('the reader copies each byte at most once', () => {
  it('a 1 MiB message arriving in 1 KiB chunks is not re-joined on every chunk', () => {
    const body = Buffer.alloc(1024 * 1024, 1);
    const m = msg('Q', Buffer.concat([body, Buffer.from([0])]));
    const r = new MessageReader(4 * 1024 * 1024);
    const original = Buffer.concat;
    let joined = 0;
    Buffer.concat = ((list: readonly Uint8Array[], len?: number) => {
      joined += list.reduce((n, x) => n + x.length, 0);
      return original.call(Buffer, list, len);
    }) as typeof Buffer.concat;
    let got = 0;
    try {
      for (let i = 0; i < m.length; i += 1024) r.feed(m.subarray(i, i + 1024), { message: (_c, _b, s, e) => (got = e - s), fragment: () => {} });
    } finally {
      Buffer.concat = original;
    }
    expect(got).toBe(m.length);
    expect(joined).toBeLessThan(64);
  });
});

describe('the control endpoint bounds every value', () => {
  const post = async (p: string, body: unknown) => {
    const r = await fetch(`${proxy.controlUrl}${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as { error?: { code: string; message: string } } };
  };
  it('refuses out-of-range or mistyped values with 400 and a coded error', async () => {
    const app = new pg.Client({ host: '127.0.0.1', port: proxy.address.port, user: 'postgres', password: 'secret-pw', database: 'postgres' });
    await app.connect();
    const key = { processId: app.processID, secretKey: app.secretKey };
    const bad: Array<[string, unknown]> = [
      ['/v1/handoffs', { ...key, ttlMs: 1e15 }],
      ['/v1/handoffs', { ...key, ttlMs: 0 }],
      ['/v1/handoffs', { ...key, ttlMs: 1.5 }],
      ['/v1/handoffs', { ...key, finishTimeoutMs: 1e15 }],
      ['/v1/handoffs', { ...key, deferCommit: 1 }],
      ['/v1/handoffs', { ...key, shadow: 'yes' }],
      ['/v1/handoffs', { ...key, capability: 'x'.repeat(5000) }],
      ['/v1/handoffs', { processId: 1e15, secretKey: 1 }],
      ['/v1/pool-grants', { ttlMs: 1e15 }],
      ['/v1/pool-grants', { deferCommit: 'true' }],
      ['/v1/pool-grants', { capability: '' }],
      ['/v1/pool-grants', JSON.stringify({ capability: 'x'.repeat(70 * 1024) })],
      ['/v1/pool-grants/0123456789abcdef0123456789abcdef/finish', { outcome: 'maybe' }],
    ];
    for (const [p, body] of bad) {
      const r = await post(p, body);
      expect({ p, status: r.status, code: r.body.error?.code }).toEqual({ p, status: 400, code: 'BEEHIVE_ERR_PROXY_CONTROL_BAD_REQUEST' });
    }
    expect((await post('/v1/handoffs', { ...key, ttlMs: 3_600_000 })).status).toBe(201);
    await app.end();
  });
});

describe('memory under eight concurrent oversized attempts (proxy in its own process)', () => {
  let child: ChildProcess;
  let port: number;
  const bin = path.join(__dirname, '../../dist/bin/beehive.js');
  beforeAll(async () => {
    port = await freePort();
    child = spawn(process.execPath, [bin, 'proxy', '--listen', `127.0.0.1:${port}`, '--upstream', server.get().url, '--max-backends', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c) => {
        out += c;
        if (out.includes('listening on')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
  }, 30_000);
  afterAll(() => {
    child?.kill('SIGKILL');
  });
  const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;

  it.skipIf(!fs.existsSync('/proc/self/status'))('eight 64 MB password messages are refused at their headers; RSS stays flat and clients are served', async () => {
    await stillServes(port);
    const before = rssMb();
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const attempts = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const s = await atSasl(port);
        s.socket.write(header('p', 64 * 1024 * 1024));
        // Keep pushing body bytes, as the attack did: the proxy must not read them into memory.
        const push = () => {
          while (!s.socket.destroyed && s.socket.write(chunk));
          if (!s.socket.destroyed) s.socket.once('drain', push);
        };
        push();
        await s.closed;
        return errorCode(s.received().subarray(s.received().indexOf(0x45)));
      }),
    );
    expect(attempts).toEqual(new Array(8).fill('08P01'));
    await stillServes(port);
    const after = rssMb();
    expect(after - before).toBeLessThan(20);
  });
});
