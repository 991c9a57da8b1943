/**
 * The channel helper thread. It owns the worker's ws connection to the server so that the main
 * thread can block in Atomics.wait during a synchronous fallback (a remote reference touched in
 * synchronous handler code) while this thread does the network I/O (DESIGN.md §4).
 *
 * The connection opens on the first call, authenticated at the upgrade with that call's invocation
 * and capability (the server accepts nothing larger than a request head before that), and is
 * reused by later invocations; when it closes, the calls in flight on it fail and the next call
 * opens a new one with its own credentials.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import WebSocket from 'ws';

interface Init {
  /** Undefined for a thread started ahead of its first invocation: the URL then comes first, as a message. */
  url?: string;
  flag: SharedArrayBuffer;
  syncPort: MessagePort;
  tls?: { rejectUnauthorized?: boolean; ca?: string };
}
interface Outgoing {
  id: number;
  frame: Uint8Array;
  sync: boolean;
  auth: { inv: string; cap: string };
}

const init = workerData as Init;
let url = init.url;
const flag = new Int32Array(init.flag);
const syncIds = new Set<number>();

interface Conn {
  ws: WebSocket;
  /** Calls sent (or queued) on this connection and not yet answered. */
  ids: Set<number>;
  queue: Outgoing[];
  closed?: string;
}
let conn: Conn | undefined;
let closing = false;

function connect(auth: Outgoing['auth']): Conn {
  const ws = new WebSocket(url!, {
    perMessageDeflate: false,
    maxPayload: 256 * 1024 * 1024,
    rejectUnauthorized: init.tls?.rejectUnauthorized ?? true,
    ca: init.tls?.ca,
    headers: { 'x-beehive-inv': String(auth.inv), 'x-beehive-cap': String(auth.cap) },
  });
  ws.binaryType = 'nodebuffer';
  const c: Conn = { ws, ids: new Set(), queue: [] };
  ws.on('open', () => {
    const q = c.queue;
    c.queue = [];
    for (const m of q) ws.send(m.frame);
  });
  ws.on('message', (data: Buffer) => {
    // The request id sits at bytes 3..6 of every frame (protocol/messages.ts).
    if (data.length < 7) return;
    const id = data.readUInt32BE(3);
    if (c.ids.delete(id)) deliver(id, { data });
  });
  ws.on('close', (code, reason) => fail(c, `closed (${code} ${reason.toString()})`));
  ws.on('error', (err) => fail(c, err.message));
  return c;
}

function deliver(id: number, msg: { data?: Buffer; error?: string }): void {
  if (syncIds.delete(id)) {
    init.syncPort.postMessage({ id, ...msg });
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  } else {
    parentPort!.postMessage({ id, ...msg });
  }
}

/** A connection that closed fails its calls; the next call opens a new one. */
function fail(c: Conn, reason: string): void {
  if (c.closed) return;
  c.closed = reason;
  if (conn === c) conn = undefined;
  c.queue = [];
  const ids = [...c.ids];
  c.ids.clear();
  for (const id of ids) deliver(id, { error: reason });
}

parentPort!.on('message', (m: Outgoing | { close: true } | { url: string }) => {
  if ('url' in m) {
    url = m.url;
    return;
  }
  if ('close' in m) {
    closing = true;
    conn?.ws.close();
    return;
  }
  if (m.sync) syncIds.add(m.id);
  if (closing) return deliver(m.id, { error: 'channel client closed' });
  conn ??= connect(m.auth);
  conn.ids.add(m.id);
  if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(m.frame);
  else conn.queue.push(m);
});
