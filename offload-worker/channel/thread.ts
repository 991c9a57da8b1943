/**
 * The channel helper thread. It owns the worker's ws connection to the server so that the main
 * thread can block in Atomics.wait during a synchronous fallback (a remote reference touched in
 * synchronous handler code) while this thread does the network I/O (DESIGN.md §4).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import WebSocket from 'ws';

interface Init {
  url: string;
  flag: SharedArrayBuffer;
  syncPort: MessagePort;
  tls?: { rejectUnauthorized?: boolean; ca?: string };
}
interface Outgoing {
  id: number;
  frame: Uint8Array;
  sync: boolean;
}

const init = workerData as Init;
const flag = new Int32Array(init.flag);
const syncIds = new Set<number>();
const pending = new Map<number, boolean>();
let queue: Outgoing[] = [];
let closedReason: string | undefined;

const ws = new WebSocket(init.url, {
  perMessageDeflate: false,
  maxPayload: 256 * 1024 * 1024,
  rejectUnauthorized: init.tls?.rejectUnauthorized ?? true,
  ca: init.tls?.ca,
});
ws.binaryType = 'nodebuffer';

ws.on('open', () => {
  const q = queue;
  queue = [];
  for (const m of q) ws.send(m.frame);
});
ws.on('message', (data: Buffer) => {
  // The request id sits at bytes 3..6 of every frame (protocol/messages.ts).
  if (data.length < 7) return;
  const id = data.readUInt32BE(3);
  deliver(id, { data });
});
ws.on('close', (code, reason) => failAll(`closed (${code} ${reason.toString()})`));
ws.on('error', (err) => failAll(err.message));

function deliver(id: number, msg: { data?: Buffer; error?: string }): void {
  if (!pending.has(id)) return;
  pending.delete(id);
  if (syncIds.delete(id)) {
    init.syncPort.postMessage({ id, ...msg });
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  } else {
    parentPort!.postMessage({ id, ...msg });
  }
}

function failAll(reason: string): void {
  closedReason = reason;
  for (const id of [...pending.keys()]) deliver(id, { error: reason });
}

parentPort!.on('message', (m: Outgoing | { close: true }) => {
  if ('close' in m) {
    ws.close();
    return;
  }
  pending.set(m.id, true);
  if (m.sync) syncIds.add(m.id);
  if (closedReason) return deliver(m.id, { error: closedReason });
  if (ws.readyState === WebSocket.OPEN) ws.send(m.frame);
  else queue.push(m);
});
