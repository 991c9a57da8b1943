/**
 * Collects what one pass over an input chunk sends to a socket: consecutive unchanged messages of
 * the same chunk join into one range (no copy), and one flush hands everything to the kernel in one
 * write (a few small pieces are joined first; large ones go out corked, as one writev).
 */
import type { Socket } from 'node:net';
import { noteHeldWrite, writeTo } from '../wire/socket-input';

export class Out {
  private parts: Buffer[] = [];
  private buf: Buffer | null = null;
  private start = 0;
  private end = 0;
  bytes = 0;

  /** Queues `buf[start, end)` without copying; the buffer must not change before flush. */
  push(buf: Buffer, start: number, end: number): void {
    if (this.buf === buf && this.end === start) {
      this.end = end;
      return;
    }
    this.commit();
    this.buf = buf;
    this.start = start;
    this.end = end;
  }

  pushOwned(b: Buffer): void {
    this.commit();
    this.parts.push(b);
  }

  get empty(): boolean {
    return this.buf === null && this.parts.length === 0;
  }

  /** Drops what is queued (its reader went away). */
  discard(): void {
    this.parts = [];
    this.buf = null;
  }

  /** Writes everything; returns false when the socket asks the writer to wait for 'drain'. */
  flush(socket: Socket): boolean {
    this.commit();
    const parts = this.parts;
    if (parts.length === 0) return true;
    this.parts = []; // a fresh array is cheaper than truncating this one (a runtime call)
    let ok = true;
    let total = 0;
    for (const p of parts) total += p.length;
    this.bytes += total;
    if (parts.length === 1) ok = writeTo(socket, parts[0]);
    else if (total <= 16384) {
      // A few small pieces (a rewritten Bind and the Execute/Sync after it): one copy beats a corked writev.
      ok = writeTo(socket, Buffer.concat(parts, total));
    } else {
      socket.cork();
      for (const p of parts) ok = socket.write(p);
      socket.uncork();
      // A write the kernel did not take at once keeps pointing at its bytes, which may be ranges
      // of a connection's reused read buffer: that connection reads into a fresh one from now on.
      if (socket.writableLength > 0) noteHeldWrite();
    }
    return ok;
  }

  private commit(): void {
    if (this.buf) {
      this.parts.push(this.start === 0 && this.end === this.buf.length ? this.buf : this.buf.subarray(this.start, this.end));
      this.buf = null;
    }
  }
}
