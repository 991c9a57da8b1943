import { CodecErrors } from './errors';

/** Growable output buffer with the primitive writes the codec needs. */
export class ByteWriter {
  private buf: Buffer;
  pos = 0;
  constructor(initial = 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = v;
  }
  varint(v: number): void {
    // Unsigned LEB128 for non-negative safe integers; most are ids and lengths under 128.
    if (v < 0x80 && this.pos < this.buf.length) {
      this.buf[this.pos++] = v;
      return;
    }
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }
  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  str(s: string): void {
    const n = s.length;
    if (n < 64) {
      // Short ASCII (property keys, most short values) is copied here: for a few bytes the native
      // length and write calls cost more than the copy. Its length (< 64) is a one-byte varint. A
      // non-ASCII character falls through to the general path, which writes over what was begun.
      if (this.pos + n + 1 > this.buf.length) this.ensure(n + 1);
      const buf = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === n) {
        buf[this.pos] = n;
        this.pos = start + n;
        return;
      }
    }
    const len = Buffer.byteLength(s);
    this.varint(len);
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
  }
  bytes(b: Uint8Array): void {
    this.varint(b.byteLength);
    this.ensure(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Bounds-checked reader: every read past the end is a coded TRUNCATED error, never a crash. */
export class ByteReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)) {}
  get remaining(): number {
    return this.buf.byteLength - this.pos;
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.byteLength) throw CodecErrors.TRUNCATED(`need ${n} bytes at offset ${this.pos}, have ${this.remaining}`);
  }
  // The reads below check bounds inline: they run once per byte of a closure, on both sides.
  u8(): number {
    if (this.pos >= this.buf.byteLength) this.need(1);
    return this.buf[this.pos++];
  }
  varint(): number {
    if (this.pos < this.buf.byteLength && this.buf[this.pos] < 0x80) return this.buf[this.pos++];
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (!Number.isSafeInteger(result)) break;
        return result;
      }
      mul *= 0x80;
    }
    throw CodecErrors.MALFORMED(`bad varint at offset ${this.pos}`);
  }
  /** A length that must fit in what is left of the input: stops hostile lengths before allocation. */
  length(unit = 1): number {
    const n = this.varint();
    if (n * unit > this.buf.byteLength - this.pos) throw CodecErrors.TRUNCATED(`length ${n} exceeds the ${this.remaining} bytes left`);
    return n;
  }
  f64(): number {
    this.need(8);
    const v = this.view.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  str(): string {
    const len = this.length();
    // No encoding named: UTF-8, without the encoding lookup.
    const s = this.view.toString(undefined, this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
  bytes(): Uint8Array {
    const len = this.length();
    // A copy: decoded buffers must not alias the transport buffer the caller may reuse.
    const out = new Uint8Array(len);
    out.set(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return out;
  }
}
