import fs from 'node:fs';
import path from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { BeehiveError, ChannelErrors, decodeFrame, encodeFrame, MsgType, type Frame } from '../../protocol';

export interface Reply {
  header: Record<string, unknown>;
  body: Uint8Array;
}

/**
 * A worker's connection to the server's channel, with synchronous calls (Atomics.wait on a shared
 * flag while the helper thread does the I/O, then `receiveMessageOnPort`) and asynchronous ones.
 */
export class ChannelClient {
  private readonly thread: Worker;
  private readonly flag: Int32Array = new Int32Array(new SharedArrayBuffer(4));
  private readonly syncPort: MessagePort;
  private readonly waiters = new Map<number, (m: { data?: Buffer; error?: string }) => void>();
  private nextId = 1;
  syncCalls = 0;

  constructor(readonly url: string, tls?: { rejectUnauthorized?: boolean; ca?: string }) {
    const started = takeSpare(tls);
    if (started) {
      ({ thread: this.thread, flag: this.flag, syncPort: this.syncPort } = started);
      this.thread.postMessage({ url });
    } else {
      const { port1, port2 } = new MessageChannel();
      this.syncPort = port1;
      this.thread = new Worker(path.join(__dirname, 'thread.js'), {
        workerData: { url, flag: this.flag.buffer, syncPort: port2, tls },
        transferList: [port2],
      });
    }
    this.thread.unref();
    this.thread.on('message', (m: { id: number; data?: Buffer; error?: string }) => {
      const w = this.waiters.get(m.id);
      this.waiters.delete(m.id);
      w?.(m);
    });
    this.thread.on('error', (err) => {
      for (const w of this.waiters.values()) w({ error: err.message });
      this.waiters.clear();
    });
  }

  /** Blocks the calling thread until the server answers. */
  callSync(type: MsgType, header: Record<string, unknown>, body?: Uint8Array, timeoutMs = 30_000): Reply {
    const id = this.nextId++;
    Atomics.store(this.flag, 0, 0);
    this.thread.postMessage({ id, frame: encodeFrame(type, id, header, body), sync: true, auth: authOf(header) });
    this.syncCalls++;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw ChannelErrors.TIMEOUT(`no answer within ${timeoutMs} ms`);
      Atomics.wait(this.flag, 0, 0, left);
      const got = receiveMessageOnPort(this.syncPort);
      if (got) return this.unwrap(got.message as { id: number; data?: Buffer; error?: string });
    }
  }

  call(type: MsgType, header: Record<string, unknown>, body?: Uint8Array, timeoutMs = 30_000): Promise<Reply> {
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(ChannelErrors.TIMEOUT(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.waiters.set(id, (m) => {
        clearTimeout(timer);
        try {
          resolve(this.unwrap({ id, ...m }));
        } catch (err) {
          reject(err);
        }
      });
      this.thread.postMessage({ id, frame: encodeFrame(type, id, header, body), sync: false, auth: authOf(header) });
    });
  }

  private unwrap(m: { id: number; data?: Buffer; error?: string }): Reply {
    if (m.error !== undefined || !m.data) throw ChannelErrors.CLOSED(m.error);
    const f: Frame = decodeFrame(m.data);
    if (f.type === MsgType.Error) {
      const code = typeof f.header.code === 'string' ? f.header.code : ChannelErrors.REMOTE.code;
      // The server's coded error, as it sent it.
      throw new BeehiveError(code, String(f.header.message ?? 'server error'));
    }
    return { header: f.header, body: f.body };
  }

  close(): void {
    this.thread.postMessage({ close: true });
    void this.thread.terminate();
  }
}

/** The credentials a call carries, for the connection's upgrade when it opens one. */
function authOf(header: Record<string, unknown>): { inv: string; cap: string } {
  return { inv: String(header.inv ?? ''), cap: String(header.cap ?? '') };
}

const clients = new Map<string, ChannelClient>();

interface Spare {
  thread: Worker;
  flag: Int32Array;
  syncPort: MessagePort;
  tls: string;
}
let spare: Spare | undefined;

/** The TLS options channelFor() gives every client of this process. */
function channelTls(): { ca: string } | undefined {
  // BEEHIVE_CHANNEL_CA: a PEM certificate, or a path to one, that the worker trusts for wss://.
  const ca = process.env.BEEHIVE_CHANNEL_CA;
  const pem = ca && !ca.includes('-----BEGIN') && fs.existsSync(ca) ? fs.readFileSync(ca, 'utf8') : ca;
  return pem ? { ca: pem } : undefined;
}

/**
 * Starts the helper thread of the first channel client before the first invocation (its URL comes
 * with that invocation): creating a thread takes 5-10 ms of the main thread, measured, otherwise
 * paid by the first invocation of every fresh worker. The thread waits idle, unreferenced.
 */
export function prestartChannelThread(): void {
  if (spare || clients.size) return;
  const tls = channelTls();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const thread = new Worker(path.join(__dirname, 'thread.js'), { workerData: { flag: flag.buffer, syncPort: port2, tls }, transferList: [port2] });
  thread.unref();
  // A thread that fails while it waits is dropped (the first client then starts its own); without a
  // listener its 'error' would be this process's uncaught exception.
  const drop = () => {
    if (spare?.thread === thread) spare = undefined;
  };
  thread.once('error', drop);
  thread.once('exit', drop);
  spare = { thread, flag, syncPort: port1, tls: JSON.stringify(tls ?? null) };
}

/** Whether a helper thread is waiting for its first client. */
export function spareThread(): boolean {
  return spare !== undefined;
}

function takeSpare(tls: { rejectUnauthorized?: boolean; ca?: string } | undefined): Spare | undefined {
  const s = spare;
  if (!s || s.tls !== JSON.stringify(tls ?? null)) return undefined;
  spare = undefined;
  return s;
}

/** One connection per server URL for the life of the worker process (warm reuse). */
export function channelFor(url: string): ChannelClient {
  let c = clients.get(url);
  if (!c) {
    c = new ChannelClient(url, channelTls());
    clients.set(url, c);
  }
  return c;
}

export function dropChannel(url: string): void {
  clients.get(url)?.close();
  clients.delete(url);
}
