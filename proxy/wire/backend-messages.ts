/**
 * Serializer for the messages the proxy itself sends to clients (it forwards the server's own bytes
 * otherwise), and decoders for the few server messages it reads. pg-protocol serializes only the
 * frontend side, hence this file.
 */
import { AuthKind, BackendCode } from './codes';

/** Builds one message: code, int32 length, then the body parts. */
function message(code: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = code;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

const cstr = (s: string): Buffer => Buffer.from(s + '\0', 'utf8');
const int32 = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
};

export const authOk = (): Buffer => message(BackendCode.Authentication, int32(AuthKind.Ok));

export const authSASL = (mechanisms: string[]): Buffer =>
  message(BackendCode.Authentication, Buffer.concat([int32(AuthKind.SASL), ...mechanisms.map(cstr), Buffer.from([0])]));

export const authSASLContinue = (data: string): Buffer =>
  message(BackendCode.Authentication, Buffer.concat([int32(AuthKind.SASLContinue), Buffer.from(data, 'utf8')]));

export const authSASLFinal = (data: string): Buffer =>
  message(BackendCode.Authentication, Buffer.concat([int32(AuthKind.SASLFinal), Buffer.from(data, 'utf8')]));

export const authCleartext = (): Buffer => message(BackendCode.Authentication, int32(AuthKind.CleartextPassword));

export const parameterStatus = (name: string, value: string): Buffer =>
  message(BackendCode.ParameterStatus, Buffer.concat([cstr(name), cstr(value)]));

export const backendKeyData = (processId: number, secretKey: number): Buffer =>
  message(BackendCode.BackendKeyData, Buffer.concat([int32(processId), int32(secretKey)]));

export const readyForQuery = (status: number): Buffer => message(BackendCode.ReadyForQuery, Buffer.from([status]));

export const commandComplete = (tag: string): Buffer => message(BackendCode.CommandComplete, cstr(tag));

export const parseComplete = (): Buffer => message(BackendCode.ParseComplete, Buffer.alloc(0));
export const closeComplete = (): Buffer => message(BackendCode.CloseComplete, Buffer.alloc(0));

export const negotiateProtocolVersion = (minor: number, unrecognised: string[]): Buffer =>
  message(BackendCode.NegotiateProtocolVersion, Buffer.concat([int32(minor), int32(unrecognised.length), ...unrecognised.map(cstr)]));

export interface ErrorFields {
  severity: 'ERROR' | 'FATAL' | 'WARNING' | 'NOTICE';
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

/** ErrorResponse ('E') or NoticeResponse ('N'): typed fields, each a tag byte and a C string. */
export function errorResponse(f: ErrorFields, notice = false): Buffer {
  const parts = [Buffer.from('S'), cstr(f.severity), Buffer.from('V'), cstr(f.severity), Buffer.from('C'), cstr(f.code), Buffer.from('M'), cstr(f.message)];
  if (f.detail) parts.push(Buffer.from('D'), cstr(f.detail));
  if (f.hint) parts.push(Buffer.from('H'), cstr(f.hint));
  parts.push(Buffer.from([0]));
  return message(notice ? BackendCode.NoticeResponse : BackendCode.ErrorResponse, Buffer.concat(parts));
}

/** Reads the fields of an ErrorResponse/NoticeResponse body into a map keyed by tag char. */
export function decodeFields(buf: Buffer, start: number, end: number): Record<string, string> {
  const out: Record<string, string> = {};
  let i = start + 5;
  while (i < end && buf[i] !== 0) {
    const tag = String.fromCharCode(buf[i]);
    const z = buf.indexOf(0, i + 1);
    if (z < 0 || z >= end) break;
    out[tag] = buf.toString('utf8', i + 1, z);
    i = z + 1;
  }
  return out;
}

/** Name and value of a ParameterStatus message. */
export function decodeParameterStatus(buf: Buffer, start: number, end: number): [string, string] {
  const z = buf.indexOf(0, start + 5);
  const z2 = buf.indexOf(0, z + 1);
  return [buf.toString('utf8', start + 5, z), buf.toString('utf8', z + 1, Math.min(z2 < 0 ? end : z2, end))];
}

/** RowDescription of text columns (type oid 25, text format): what the admin console answers with. */
export function rowDescription(names: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([names.length >> 8, names.length & 0xff])];
  for (const n of names) {
    const tail = Buffer.alloc(18);
    tail.writeInt32BE(0, 0); // table oid
    tail.writeInt16BE(0, 4); // column number
    tail.writeInt32BE(25, 6); // text
    tail.writeInt16BE(-1, 10); // variable length
    tail.writeInt32BE(-1, 12); // no type modifier
    tail.writeInt16BE(0, 16); // text format
    parts.push(cstr(n), tail);
  }
  return message(BackendCode.RowDescription, Buffer.concat(parts));
}

/** DataRow of text values (null: SQL NULL). */
export function dataRow(values: Array<string | null>): Buffer {
  const parts: Buffer[] = [Buffer.from([values.length >> 8, values.length & 0xff])];
  for (const v of values) {
    if (v === null) parts.push(int32(-1));
    else {
      const b = Buffer.from(v, 'utf8');
      parts.push(int32(b.length), b);
    }
  }
  return message(BackendCode.DataRow, Buffer.concat(parts));
}
