/**
 * Reading a connection on the relay path: into one preallocated buffer per connection, straight
 * from the socket's TCP or pipe handle, without a Readable stream in between.
 *
 * Node's `net.Socket` allocates a fresh buffer for every read and pushes it through its Readable
 * stream ('data' listeners, flowing state, async bookkeeping); for a proxy whose every message is
 * one read and one write that machinery costs about as much user CPU as the rest of the proxy.
 * Public `onread` does this only for client sockets made by `net.connect`, not for accepted ones,
 * so this uses the same hook the `onread` option uses (`useUserBuffer` and the handle's `onread`
 * callback). Where that is not available — a TLS socket, another runtime, a handle without it —
 * the socket's 'data' events are used, with the same interface.
 *
 * The buffer is reused by the next read: whoever keeps bytes of a chunk beyond the callback must
 * copy them (the message reader copies incomplete messages, the stash copies what it holds). A
 * write that did not complete at once still points into the buffer; `noteHeldWrite()` (Out.flush
 * calls it) makes the connection being read switch to a fresh buffer when its callback returns.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { getSystemErrorName } from 'node:util';

/** Called with the bytes `buf[0, n)` just read; `buf` is reused after it returns. */
export type ChunkHandler = (buf: Buffer, n: number) => void;

interface StreamState {
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
  WriteWrap: new () => WriteReq;
}

/** Node's request object of one handle write (what its own net module makes for each write). */
interface WriteReq {
  handle: unknown;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
  bytes: number;
  buffer: Buffer | null;
  socket?: Socket;
}

interface RawHandle {
  onread: (this: RawHandle, arrayBuffer?: ArrayBuffer) => unknown;
  useUserBuffer(buf: Uint8Array): void;
  readStart(): number;
  readStop(): number;
  reading: boolean;
  writeBuffer?(req: WriteReq, buf: Buffer): number;
}

/** The size of each connection's read buffer: larger reads come in several chunks. */
export const kReadBufferSize = 64 * 1024;

let state: StreamState | null | undefined;
let enabled = true;
/** Writes that kept a reference to the bytes they were given (see noteHeldWrite). */
let heldWrites = 0;

/** Node's stream-base state (where a handle's read size is reported), or null where it cannot be had. */
function streamState(): StreamState | null {
  if (state !== undefined) return state;
  state = null;
  try {
    // The same binding Node's own net module reads; process.binding allows it (no warning by default).
    const b = (process as unknown as { binding(name: string): Record<string, unknown> }).binding('stream_wrap');
    if (b.streamBaseState instanceof Int32Array && typeof b.kReadBytesOrError === 'number' && typeof b.kLastWriteWasAsync === 'number' && typeof b.WriteWrap === 'function') {
      state = { streamBaseState: b.streamBaseState, kReadBytesOrError: b.kReadBytesOrError, kLastWriteWasAsync: b.kLastWriteWasAsync, WriteWrap: b.WriteWrap as StreamState['WriteWrap'] };
    }
  } catch {
    state = null;
  }
  return state;
}

/**
 * Turns the handle path off (tests run the stream path with it) or back on: reads of connections
 * that go direct afterwards, and every write from then on.
 */
export function setDirectIo(on: boolean): void {
  enabled = on;
}

/** A write still holds bytes it was given (it did not complete at once): buffers being read now are replaced. */
export function noteHeldWrite(): void {
  heldWrites++;
}

export class SocketInput {
  /** Whether reads go straight from the handle into the preallocated buffer (after goDirect()). */
  direct = false;
  private paused = false;
  private buf: Buffer | null = null;
  private handle: RawHandle | null = null;

  /** Reads through the socket's 'data' events until goDirect(). */
  constructor(
    readonly socket: Socket,
    private readonly onChunk: ChunkHandler,
  ) {
    // In direct mode too the stream keeps this listener (and flows), so that it emits 'end' and
    // 'close' as before; it then gets no data.
    socket.on('data', (chunk: Buffer) => onChunk(chunk, chunk.length));
  }

  /**
   * From now on, reads go into a preallocated buffer straight from the handle, where possible
   * (false: they stay on 'data' events). Called on a connection's relay phase; TLS sockets and
   * paused ones stay on the stream.
   */
  goDirect(): boolean {
    if (this.direct) return true;
    const st = enabled ? streamState() : null;
    const socket = this.socket;
    const h = (socket as unknown as { _handle?: RawHandle | null })._handle;
    if (
      st === null ||
      socket instanceof TLSSocket ||
      socket.destroyed ||
      !h ||
      typeof h.useUserBuffer !== 'function' ||
      typeof h.readStart !== 'function' ||
      typeof h.onread !== 'function' ||
      // Bytes the stream already holds would come after the handle's.
      socket.readableLength > 0 ||
      socket.isPaused()
    ) {
      return false;
    }
    this.handle = h;
    this.direct = true;
    const buf = (this.buf = Buffer.allocUnsafe(kReadBufferSize));
    const streamOnRead = h.onread;
    const { streamBaseState, kReadBytesOrError } = st;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const input = this;
    h.useUserBuffer(buf);
    // End of stream and errors go on to the socket's own handler, so that 'end', 'error' and
    // 'close' are the socket's as before; only data takes the short way.
    h.onread = function (this: RawHandle, arrayBuffer?: ArrayBuffer) {
      const n = streamBaseState[kReadBytesOrError];
      if (n <= 0 || socket.destroyed) return streamOnRead.call(this, arrayBuffer);
      return input.deliver(n);
    };
    if (!h.reading) {
      h.reading = true;
      h.readStart();
    }
    return true;
  }

  /** Hands `buf[0, n)` on; returns a new buffer for the handle when a write kept the old one. */
  private deliver(n: number): Buffer | undefined {
    const before = heldWrites;
    this.onChunk(this.buf!, n);
    if (heldWrites === before) return undefined;
    // The old buffer now belongs to that write; later reads go to a fresh one.
    this.buf = Buffer.allocUnsafe(kReadBufferSize);
    return this.buf;
  }

  get isPaused(): boolean {
    return this.direct ? this.paused : this.socket.isPaused();
  }

  /** Stops reading (backpressure, or a connection about to close). */
  pause(): void {
    if (!this.direct) {
      this.socket.pause();
      return;
    }
    if (this.paused) return;
    this.paused = true;
    const h = this.handle!;
    if (h.reading && !this.socket.destroyed) {
      h.reading = false;
      h.readStop();
    }
  }

  resume(): void {
    if (!this.direct) {
      this.socket.resume();
      return;
    }
    if (!this.paused) return;
    this.paused = false;
    const h = this.handle!;
    if (!h.reading && !this.socket.destroyed) {
      h.reading = true;
      h.readStart();
    }
  }
}

/** Handle writes of a socket not completed yet. */
const kPendingWrites = Symbol('beehive.pendingWrites');
type WithPending = Socket & { [kPendingWrites]?: number };

function onDirectWriteDone(this: WriteReq, status: number): void {
  const socket = this.socket as WithPending;
  this.buffer = null;
  const left = (socket[kPendingWrites] = (socket[kPendingWrites] ?? 1) - 1);
  if (status < 0) {
    if (!socket.destroyed) socket.destroy(writeError(status));
  } else if (left === 0 && !socket.destroyed) socket.emit('drain');
}

function writeError(status: number): Error {
  let name = String(status);
  try {
    name = getSystemErrorName(status);
  } catch {
    // not a system error number
  }
  return Object.assign(new Error(`write ${name}`), { code: name, errno: status, syscall: 'write' });
}

/**
 * Writes `buf` to the socket; false when the caller should wait for 'drain' (the kernel did not
 * take it all). Straight to the handle, as Node's own socket write ends up doing, but without the
 * Writable stream's bookkeeping and its deferred callback per write — where the stream holds
 * nothing queued (order is kept: the handle queues writes in order) and the socket is a plain
 * TCP or pipe socket. Otherwise through `socket.write`. A write that did not complete at once keeps
 * `buf` until it does: noteHeldWrite() then moves reads of reused buffers elsewhere.
 */
export function writeTo(socket: Socket, buf: Buffer): boolean {
  const st = enabled ? streamState() : null;
  const h = (socket as unknown as { _handle?: RawHandle | null })._handle;
  if (st === null || !h || typeof h.writeBuffer !== 'function' || socket.writableLength > 0 || socket.writableEnded || socket.destroyed || socket.connecting || socket instanceof TLSSocket) {
    const ok = socket.write(buf);
    if (socket.writableLength > 0) noteHeldWrite();
    return ok;
  }
  const req = new st.WriteWrap();
  req.handle = h;
  req.oncomplete = onDirectWriteDone;
  req.async = false;
  req.bytes = 0;
  req.buffer = null;
  const err = h.writeBuffer(req, buf);
  if (err !== 0) {
    socket.destroy(writeError(err));
    return true;
  }
  if (st.streamBaseState[st.kLastWriteWasAsync] === 0) return true;
  // The rest goes out later from `buf` itself: keep it alive, and tell the readers.
  req.async = true;
  req.buffer = buf;
  req.socket = socket;
  const s = socket as WithPending;
  s[kPendingWrites] = (s[kPendingWrites] ?? 0) + 1;
  noteHeldWrite();
  return false;
}

/** Whether writes to the socket are still under way (stream or handle). */
export function writesPending(socket: Socket): boolean {
  return socket.writableLength > 0 || ((socket as WithPending)[kPendingWrites] ?? 0) > 0;
}
