/**
 * Splits a byte stream into PostgreSQL messages without I/O: feed it chunks, it calls back with
 * each complete message as a range of a buffer (no copy when a message lies inside one chunk).
 * Large CopyData/DataRow messages are passed on as fragments instead of being buffered, so a proxy
 * forwards a 1 GB COPY without holding it.
 */
import { ProxyErrors } from '../errors';

export interface ReaderHandler {
  /** A complete message: `buf[start, end)` holds code (absent in startup mode), length and body. */
  message(code: number, buf: Buffer, start: number, end: number): void;
  /** Raw bytes of a large streamed message; the first call starts at its code byte. */
  fragment(code: number, buf: Buffer, start: number, end: number): void;
}

/** Messages above this size whose content nobody inspects are streamed, not buffered. */
export const kStreamThreshold = 64 * 1024;

const isStreamable = (code: number): boolean => code === 0x64 /* 'd' */ || code === 0x44 /* 'D' */;

export class MessageReader {
  /** True until the startup packet has been read: startup-phase packets carry no code byte. */
  startup: boolean;
  private carry: Buffer | null = null;
  private skip = 0;
  private streamCode = 0;
  private stopped = false;

  constructor(
    private readonly maxLength: number,
    startup = false,
    private readonly maxStartupLength = 10_000,
  ) {
    this.startup = startup;
  }

  /** Stops delivering messages (the connection is closing). */
  stop(): void {
    this.stopped = true;
    this.carry = null;
  }

  /** Bytes held back waiting for the rest of a message. */
  get pending(): number {
    return this.carry ? this.carry.length : 0;
  }

  /** Throws a coded error on a malformed or oversized length. */
  feed(chunk: Buffer, h: ReaderHandler): void {
    let buf = chunk;
    let off = 0;
    if (this.skip > 0) {
      const n = Math.min(this.skip, buf.length);
      this.skip -= n;
      h.fragment(this.streamCode, buf, 0, n);
      off = n;
      if (off === buf.length) return;
    }
    if (this.carry) {
      buf = Buffer.concat([this.carry, off ? buf.subarray(off) : buf]);
      off = 0;
      this.carry = null;
    }
    const n = buf.length;
    while (!this.stopped) {
      const startup = this.startup;
      const hdr = startup ? 4 : 5;
      if (n - off < hdr) break;
      const code = startup ? 0 : buf[off];
      const len = buf.readInt32BE(startup ? off : off + 1);
      if (len < 4) throw ProxyErrors.PROTOCOL_VIOLATION(`invalid message length ${len}`);
      const total = startup ? len : len + 1;
      const end = off + total;
      if (startup ? len > this.maxStartupLength : len > this.maxLength && !isStreamable(code)) {
        throw ProxyErrors.MESSAGE_TOO_LARGE(`${len} bytes, limit ${startup ? this.maxStartupLength : this.maxLength}`);
      }
      if (end > n) {
        if (!startup && isStreamable(code) && total > kStreamThreshold) {
          this.skip = end - n;
          this.streamCode = code;
          h.fragment(code, buf, off, n);
          return;
        }
        break;
      }
      h.message(code, buf, off, end);
      off = end;
    }
    // Copy a small tail out of a big chunk so the chunk is not kept alive by it.
    if (off < n && !this.stopped) this.carry = n - off < 4096 && n > 65536 ? Buffer.from(buf.subarray(off)) : buf.subarray(off);
  }
}
