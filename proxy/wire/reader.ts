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

const isTerminate = (b: Buffer, i: number): boolean => b[i] === 0x58 && b[i + 1] === 0 && b[i + 2] === 0 && b[i + 3] === 0 && b[i + 4] === 4;

const isStreamable = (code: number): boolean => code === 0x64 /* 'd' */ || code === 0x44 /* 'D' */;

export class MessageReader {
  /** True until the startup packet has been read: startup-phase packets carry no code byte. */
  startup: boolean;
  /**
   * Whether large CopyData/DataRow messages may stream past `maxLength` as fragments. A client
   * connection turns it on only once authenticated: before that every message obeys the limit.
   */
  streaming = true;
  /** Bytes of an incomplete header (fewer than 5), copied. */
  private carry: Buffer | null = null;
  /** An incomplete message whose length is known: allocated once at its full size and filled in place. */
  private pend: Buffer | null = null;
  private pendFill = 0;
  private pendStartup = false;
  private skip = 0;
  private streamCode = 0;
  private stopped = false;

  constructor(
    /** The largest message buffered; can be changed between chunks (a client's grows after login). */
    public maxLength: number,
    startup = false,
    private readonly maxStartupLength = 10_000,
  ) {
    this.startup = startup;
  }

  /** Stops delivering messages (the connection is closing). */
  stop(): void {
    this.stopped = true;
    this.carry = null;
    this.pend = null;
  }

  /** Bytes held back waiting for the rest of a message. */
  get pending(): number {
    return (this.carry ? this.carry.length : 0) + this.pendFill;
  }

  /**
   * Throws a coded error on a malformed or oversized length, as soon as the header arrives. Each
   * byte is copied at most once (into the buffer of a message split across chunks), whatever the
   * chunking: a message trickling in one byte at a time costs its size, not its size squared.
   */
  feed(chunk: Buffer, h: ReaderHandler, length = chunk.length): void {
    if (this.stopped) return;
    // `chunk[0, length)` is valid; the chunk may be a connection's reused read buffer
    // (wire/socket-input.ts), so nothing here keeps a reference to it: what waits is copied.
    let buf = chunk;
    let n = length;
    let off = 0;
    if (this.skip > 0) {
      const k = Math.min(this.skip, n);
      this.skip -= k;
      h.fragment(this.streamCode, buf, 0, k);
      off = k;
      if (off === n) return;
    }
    if (this.pend) {
      const m = this.pend;
      const k = Math.min(m.length - this.pendFill, n - off);
      buf.copy(m, this.pendFill, off, off + k);
      this.pendFill += k;
      off += k;
      if (this.pendFill < m.length) return;
      this.pend = null;
      this.pendFill = 0;
      h.message(this.pendStartup ? 0 : m[0], m, 0, m.length);
      if (off === n || this.stopped) return;
    }
    if (this.carry) {
      // Fewer than 5 bytes: join them with the rest of the chunk to read a header.
      buf = Buffer.concat([this.carry, buf.subarray(off, n)]);
      off = 0;
      n = buf.length;
      this.carry = null;
    }
    while (!this.stopped) {
      const startup = this.startup;
      const hdr = startup ? 4 : 5;
      if (n - off < hdr) break;
      if (startup && n - off >= 5 && isTerminate(buf, off)) {
        // A client that gave up before its startup packet went out (node-postgres ending a
        // connection still connecting) sends Terminate first: a startup length can never be
        // 0x58000000, so this is not a misread packet but a goodbye.
        h.message(0x58, buf, off, off + 5);
        off += 5;
        continue;
      }
      const code = startup ? 0 : buf[off];
      const len = buf.readInt32BE(startup ? off : off + 1);
      if (len < 4) throw ProxyErrors.PROTOCOL_VIOLATION(`invalid message length ${len}`);
      const total = startup ? len : len + 1;
      const end = off + total;
      const stream = !startup && this.streaming && isStreamable(code);
      if (startup ? len > this.maxStartupLength : len > this.maxLength && !stream) {
        throw ProxyErrors.MESSAGE_TOO_LARGE(`${len} bytes, limit ${startup ? this.maxStartupLength : this.maxLength}`);
      }
      if (end > n) {
        if (stream && total > kStreamThreshold) {
          this.skip = end - n;
          this.streamCode = code;
          h.fragment(code, buf, off, n);
          return;
        }
        this.pend = Buffer.allocUnsafe(total);
        this.pendFill = buf.copy(this.pend, 0, off, n);
        this.pendStartup = startup;
        return;
      }
      h.message(code, buf, off, end);
      off = end;
    }
    if (off < n && !this.stopped) this.carry = Buffer.from(buf.subarray(off, n));
  }
}
