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

/** The messages in `data` (backend side: code, length, body), complete ones only. */
export function messages(data: Buffer): Array<{ code: string; body: Buffer }> {
  const out: Array<{ code: string; body: Buffer }> = [];
  let i = 0;
  while (i + 5 <= data.length) {
    const len = data.readInt32BE(i + 1);
    if (i + 1 + len > data.length) break;
    out.push({ code: String.fromCharCode(data[i]), body: data.subarray(i + 5, i + 1 + len) });
    i += 1 + len;
  }
  return out;
}

/** Extended-protocol messages as a client writes them. */
export const ext = {
  parse: (name: string | Buffer, query: string | Buffer): Buffer =>
    msg('P', Buffer.concat([Buffer.from(name), Buffer.from([0]), Buffer.from(query), Buffer.from([0, 0, 0])])),
  bind: (portal: string, statement: string | Buffer, params: Array<string | null> = []): Buffer => {
    const parts = [Buffer.from(`${portal}\0`), Buffer.from(statement), Buffer.from([0]), Buffer.from([0, 0])];
    const n = Buffer.alloc(2);
    n.writeInt16BE(params.length);
    parts.push(n);
    for (const p of params) {
      const len = Buffer.alloc(4);
      len.writeInt32BE(p === null ? -1 : Buffer.byteLength(p));
      parts.push(len);
      if (p !== null) parts.push(Buffer.from(p));
    }
    parts.push(Buffer.from([0, 0]));
    return msg('B', Buffer.concat(parts));
  },
  describe: (kind: 'S' | 'P', name: string): Buffer => msg('D', `${kind}${name}\0`),
  execute: (portal = ''): Buffer => msg('E', Buffer.concat([Buffer.from(`${portal}\0`), Buffer.alloc(4)])),
  close: (kind: 'S' | 'P', name: string): Buffer => msg('C', `${kind}${name}\0`),
  sync: (): Buffer => msg('S'),
  flush: (): Buffer => msg('H'),
  query: (sql: string | Buffer): Buffer => msg('Q', Buffer.concat([Buffer.from(sql), Buffer.from([0])])),
};

/** Counts ReadyForQuery messages in `data`. */
export const readyCount = (data: Buffer): number => messages(data).filter((m) => m.code === 'Z').length;

/**
 * A logged-in raw connection to a proxy that trusts its clients: startup with `params`, then
 * `exchange(bytes, readies)` writes and waits for that many more ReadyForQuery messages, returning
 * the messages received since the write.
 */
export async function rawLogin(port: number, params: Record<string, string>, password?: string): Promise<{
  socket: net.Socket;
  startup: Array<{ code: string; body: Buffer }>;
  exchange: (bytes: Buffer, readies?: number) => Promise<Array<{ code: string; body: Buffer }>>;
}> {
  const r = await rawSocket(port);
  r.socket.write(startupMessage({ user: 'postgres', database: 'postgres', ...params }));
  const cleartext = (b: Buffer) => b.length >= 9 && b[0] === 0x52 && b.readInt32BE(5) === 3;
  const asked = await r.waitFor((b) => readyCount(b) >= 1 || hasError(b) || cleartext(b));
  // A server that asks for a cleartext password (tests start one so): the only exchange a raw client needs.
  if (cleartext(asked) && password !== undefined) r.socket.write(msg('p', `${password}\0`));
  const first = await r.waitFor((b) => readyCount(b) >= 1 || hasError(b));
  const startup = messages(first);
  let seen = first.length;
  return {
    socket: r.socket,
    startup,
    async exchange(bytes, readies = 1) {
      const from = seen;
      const before = readyCount(r.received().subarray(from));
      r.socket.write(bytes);
      const got = await r.waitFor((b) => readyCount(b.subarray(from)) >= before + readies);
      const list = messages(got.subarray(from));
      // Up to the last awaited ReadyForQuery: later bytes belong to the next exchange.
      let z = 0;
      let upto = 0;
      let off = from;
      for (const m of list) {
        off += 5 + m.body.length;
        upto++;
        if (m.code === 'Z' && ++z === readies) break;
      }
      seen = off;
      return list.slice(0, upto);
    },
  };
}

/** Fields of an ErrorResponse/NoticeResponse body keyed by their tag. */
export function fields(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const z = body.indexOf(0, i + 1);
    out[String.fromCharCode(body[i])] = body.toString('utf8', i + 1, z);
    i = z + 1;
  }
  return out;
}
