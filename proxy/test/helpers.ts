/** Shared bits of the proxy tests: clients through the proxy, raw sockets, waiting on events. */
import net from 'node:net';
import pg from 'pg';
import type { ProxyHandle } from '../index';

export function pgClient(proxy: ProxyHandle, extra: Record<string, unknown> = {}): pg.Client {
  return new pg.Client({ host: proxy.address.host, port: proxy.address.port, user: 'postgres', password: 'secret-pw', database: 'postgres', ...extra });
}

export async function connected(proxy: ProxyHandle, extra: Record<string, unknown> = {}): Promise<pg.Client> {
  const c = pgClient(proxy, extra);
  await c.connect();
  return c;
}

/** A raw socket to the proxy that collects everything it receives. */
export function rawSocket(port: number): Promise<{ socket: net.Socket; received: () => Buffer; closed: Promise<void>; waitFor: (pred: (b: Buffer) => boolean) => Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = Buffer.alloc(0);
    const waiters: Array<() => void> = [];
    socket.on('data', (c) => {
      data = Buffer.concat([data, c]);
      for (const w of waiters.splice(0)) w();
    });
    const closed = new Promise<void>((r) => socket.on('close', () => {
      r();
      for (const w of waiters.splice(0)) w();
    }));
    socket.on('error', () => {});
    const waitFor = (pred: (b: Buffer) => boolean) =>
      new Promise<Buffer>((res, rej) => {
        const check = () => {
          if (pred(data)) return res(data);
          if (socket.destroyed) return rej(new Error(`socket closed; received ${data.toString('latin1')}`));
          waiters.push(check);
        };
        check();
      });
    socket.once('connect', () => resolve({ socket, received: () => data, closed, waitFor }));
    socket.once('error', reject);
  });
}

/** Startup message for protocol 3.0 with the given parameters. */
export function startupMessage(params: Record<string, string>): Buffer {
  const body = Buffer.concat([...Object.entries(params).map(([k, v]) => Buffer.from(`${k}\0${v}\0`)), Buffer.from([0])]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

/** One typed message: code, length, body. */
export function msg(code: string, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const head = Buffer.alloc(5);
  head.write(code, 0, 'latin1');
  head.writeInt32BE(4 + b.length, 1);
  return Buffer.concat([head, b]);
}

/** SQLSTATE ('C' field) of the first ErrorResponse in `data`, if any. */
export function errorCode(data: Buffer): string | null {
  let i = 0;
  while (i + 5 <= data.length) {
    const code = String.fromCharCode(data[i]);
    const len = data.readInt32BE(i + 1);
    if (code === 'E') {
      const body = data.subarray(i + 5, i + 1 + len).toString('utf8');
      const m = /C([0-9A-Z]{5})\0/.exec(body);
      return m ? m[1] : null;
    }
    i += 1 + len;
  }
  return null;
}

export const hasError = (b: Buffer): boolean => errorCode(b) !== null;
