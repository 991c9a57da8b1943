import fs from 'node:fs';
import path from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
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
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly syncPort;
  private readonly waiters = new Map<number, (m: { data?: Buffer; error?: string }) => void>();
  private nextId = 1;
  syncCalls = 0;

  constructor(readonly url: string, tls?: { rejectUnauthorized?: boolean; ca?: string }) {
    const { port1, port2 } = new MessageChannel();
    this.syncPort = port1;
    this.thread = new Worker(path.join(__dirname, 'thread.js'), {
      workerData: { url, flag: this.flag.buffer, syncPort: port2, tls },
      transferList: [port2],
    });
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

/** One connection per server URL for the life of the worker process (warm reuse). */
export function channelFor(url: string): ChannelClient {
  let c = clients.get(url);
  if (!c) {
    // BEEHIVE_CHANNEL_CA: a PEM certificate, or a path to one, that the worker trusts for wss://.
    const ca = process.env.BEEHIVE_CHANNEL_CA;
    const pem = ca && !ca.includes('-----BEGIN') && fs.existsSync(ca) ? fs.readFileSync(ca, 'utf8') : ca;
    c = new ChannelClient(url, pem ? { ca: pem } : undefined);
    clients.set(url, c);
  }
  return c;
}

export function dropChannel(url: string): void {
  clients.get(url)?.close();
  clients.delete(url);
}
