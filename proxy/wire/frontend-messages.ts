/**
 * Decoders for client messages the proxy looks inside, and encoders for the ones it rewrites
 * (statement names of Parse/Bind/Describe, query text in shadow sessions). Pure functions over bytes.
 */
import { ProxyErrors } from '../errors';

/** Index of the NUL that ends the C string at `i`; throws if the message has none. */
export function cstrEnd(buf: Buffer, i: number, end: number): number {
  const z = buf.indexOf(0, i);
  if (z < 0 || z >= end) throw ProxyErrors.PROTOCOL_VIOLATION('unterminated string in message');
  return z;
}

export interface StartupPacket {
  kind: 'startup' | 'ssl' | 'gssenc' | 'cancel';
  major?: number;
  minor?: number;
  params?: Record<string, string>;
  processId?: number;
  secretKey?: number;
}

/** Decodes a startup-phase packet (no code byte): StartupMessage, SSLRequest, GSSENCRequest, CancelRequest. */
export function decodeStartup(buf: Buffer, start: number, end: number): StartupPacket {
  if (end - start < 8) throw ProxyErrors.PROTOCOL_VIOLATION('startup packet too short');
  const version = buf.readInt32BE(start + 4);
  if (version === 80877103) return { kind: 'ssl' };
  if (version === 80877104) return { kind: 'gssenc' };
  if (version === 80877102) {
    if (end - start < 16) throw ProxyErrors.PROTOCOL_VIOLATION('cancel request too short');
    return { kind: 'cancel', processId: buf.readInt32BE(start + 8), secretKey: buf.readInt32BE(start + 12) };
  }
  const params: Record<string, string> = {};
  let i = start + 8;
  while (i < end && buf[i] !== 0) {
    const kEnd = cstrEnd(buf, i, end);
    const vEnd = cstrEnd(buf, kEnd + 1, end);
    params[buf.toString('utf8', i, kEnd)] = buf.toString('utf8', kEnd + 1, vEnd);
    i = vEnd + 1;
  }
  return { kind: 'startup', major: version >>> 16, minor: version & 0xffff, params };
}

/** SASLInitialResponse: mechanism name and the client-first message. */
export function decodeSASLInitial(buf: Buffer, start: number, end: number): { mechanism: string; data: string } {
  const z = cstrEnd(buf, start + 5, end);
  const len = buf.readInt32BE(z + 1);
  const from = z + 5;
  return { mechanism: buf.toString('utf8', start + 5, z), data: len < 0 ? '' : buf.toString('utf8', from, Math.min(end, from + len)) };
}

/** Body of a message as a UTF-8 string (SASLResponse, password), without a trailing NUL. */
export function decodeBodyString(buf: Buffer, start: number, end: number): string {
  const last = end > start + 5 && buf[end - 1] === 0 ? end - 1 : end;
  return buf.toString('utf8', start + 5, last);
}

/** Query ('Q'): the SQL text. */
export const decodeQuery = (buf: Buffer, start: number, end: number): string => buf.toString('utf8', start + 5, cstrEnd(buf, start + 5, end));

export interface ParseMessage {
  /** Statement name, decoded byte for byte (latin1): only ever a key, whatever the client encoding. */
  name: string;
  query: string;
  /** The query text's bytes as the client sent them (in its client_encoding). */
  queryBytes: Buffer;
  /** Raw int16 count + int32 OIDs, copied back as they came. */
  types: Buffer;
}

export function decodeParse(buf: Buffer, start: number, end: number): ParseMessage {
  const z1 = cstrEnd(buf, start + 5, end);
  const z2 = cstrEnd(buf, z1 + 1, end);
  return {
    name: buf.toString('latin1', start + 5, z1),
    query: buf.toString('utf8', z1 + 1, z2),
    queryBytes: buf.subarray(z1 + 1, z2),
    types: buf.subarray(z2 + 1, end),
  };
}

/** Parse with `name` (ASCII: the proxy's own or empty) and the query as bytes (passed as they came) or text. */
export function encodeParse(name: string, query: string | Buffer, types: Buffer): Buffer {
  const nLen = Buffer.byteLength(name);
  const qLen = typeof query === 'string' ? Buffer.byteLength(query) : query.length;
  const out = Buffer.allocUnsafe(5 + nLen + 1 + qLen + 1 + types.length);
  out[0] = 0x50; // 'P'
  out.writeInt32BE(out.length - 1, 1);
  let i = 5 + out.write(name, 5, 'utf8');
  out[i++] = 0;
  i += typeof query === 'string' ? out.write(query, i, 'utf8') : query.copy(out, i);
  out[i++] = 0;
  types.copy(out, i);
  return out;
}

/** Bind ('B') without decoding: the ends of its portal and statement names (each the index of its NUL). */
export function bindNameEnds(buf: Buffer, start: number, end: number): { portalEnd: number; statementEnd: number } {
  const portalEnd = cstrEnd(buf, start + 5, end);
  return { portalEnd, statementEnd: cstrEnd(buf, portalEnd + 1, end) };
}

/**
 * Bind with another statement name: `name` is the new name with its NUL; the portal and the rest
 * (parameters, formats) are copied from the client's message as they are.
 */
export function rebind(buf: Buffer, start: number, end: number, portalEnd: number, statementEnd: number, name: Buffer): Buffer {
  const portalLen = portalEnd + 1 - (start + 5);
  const restAt = statementEnd + 1;
  const out = Buffer.allocUnsafe(5 + portalLen + name.length + (end - restAt));
  out[0] = 0x42; // 'B'
  out.writeInt32BE(out.length - 1, 1);
  buf.copy(out, 5, start + 5, portalEnd + 1);
  name.copy(out, 5 + portalLen);
  buf.copy(out, 5 + portalLen + name.length, restAt, end);
  return out;
}

/** Bind ('B'): portal and statement names, and where the rest of the message starts. */
export function decodeBindNames(buf: Buffer, start: number, end: number): { portal: string; statement: string; restAt: number } {
  const z1 = cstrEnd(buf, start + 5, end);
  const z2 = cstrEnd(buf, z1 + 1, end);
  return { portal: buf.toString('utf8', start + 5, z1), statement: buf.toString('utf8', z1 + 1, z2), restAt: z2 + 1 };
}

export function encodeBind(portal: string, statement: string, buf: Buffer, restAt: number, end: number): Buffer {
  const pLen = Buffer.byteLength(portal);
  const sLen = Buffer.byteLength(statement);
  const out = Buffer.allocUnsafe(5 + pLen + 1 + sLen + 1 + (end - restAt));
  out[0] = 0x42; // 'B'
  out.writeInt32BE(out.length - 1, 1);
  let i = 5 + out.write(portal, 5, 'utf8');
  out[i++] = 0;
  i += out.write(statement, i, 'utf8');
  out[i++] = 0;
  buf.copy(out, i, restAt, end);
  return out;
}

/** Describe ('D') / Close ('C'): 'S' (statement) or 'P' (portal) and the name. */
export function decodeTarget(buf: Buffer, start: number, end: number): { kind: number; name: string } {
  if (end - start < 7) throw ProxyErrors.PROTOCOL_VIOLATION('message too short');
  return { kind: buf[start + 5], name: buf.toString('latin1', start + 6, cstrEnd(buf, start + 6, end)) };
}

export function encodeTarget(code: number, kind: number, name: string): Buffer {
  const out = Buffer.allocUnsafe(5 + 1 + Buffer.byteLength(name) + 1);
  out[0] = code;
  out.writeInt32BE(out.length - 1, 1);
  out[5] = kind;
  const n = out.write(name, 6, 'utf8');
  out[6 + n] = 0;
  return out;
}

export function encodeQuery(text: string): Buffer {
  const out = Buffer.allocUnsafe(5 + Buffer.byteLength(text) + 1);
  out[0] = 0x51; // 'Q'
  out.writeInt32BE(out.length - 1, 1);
  const n = out.write(text, 5, 'utf8');
  out[5 + n] = 0;
  return out;
}

export const syncMessage = (): Buffer => Buffer.from([0x53, 0, 0, 0, 4]);
export const copyFailMessage = (reason: string): Buffer => {
  const out = Buffer.allocUnsafe(5 + Buffer.byteLength(reason) + 1);
  out[0] = 0x66; // 'f'
  out.writeInt32BE(out.length - 1, 1);
  out.write(reason, 5, 'utf8');
  out[out.length - 1] = 0;
  return out;
};
