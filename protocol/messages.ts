import { defineErrors } from './errors';

/**
 * Channel frames between a worker and the server (one ws binary message each):
 *
 *   u8 magic 0xB7 | u8 version | u8 type | u32 BE request id | u32 BE header length | header (JSON) | body
 *
 * The header is a small JSON object (ids, names); the body is raw bytes (closure codec streams), so
 * binary data never travels as base64. Requests carry an id the reply echoes.
 */
export const FRAME_MAGIC = 0xb7;
export const PROTOCOL_VERSION = 1;
export const MAX_HEADER_BYTES = 64 * 1024;

export const enum MsgType {
  // 1 is retired (a per-connection bind: connections authenticate at the upgrade).
  /** {inv, id}: the object behind a remote reference */
  Fetch = 2,
  /** {inv, from, spec}: an app module's exports (code fallback) */
  Module = 3,
  /** {inv}: a closure that was too large for the invoke payload */
  Closure = 4,
  /** {inv, key}: acquire a distributed lock; reply body: fresh copies */
  LockAcquire = 5,
  /** {inv, key}, body: dirty set: commit and release */
  LockRelease = 6,
  /** {inv, pack}: a packageable's record that the server was still preparing at capture time */
  Pack = 8,
  /**
   * {inv, id, start, count}: elements start..start+count of the array behind a remote reference;
   * reply header {length, start}, body: those elements as an array (holes kept). Reply header
   * {whole: true} instead: the body is the whole array, as Fetch would answer (an array the server
   * will not serve in ranges: hot, not a plain array, accessors in the range).
   */
  FetchRange = 9,
  /**
   * {inv, id, key}: one entry of the WeakMap or WeakSet behind a remote reference, for the object
   * leased as `key`; reply header {has}, body: the value (a WeakSet's: undefined). The server
   * checks at the commit point that the entry is still what it answered.
   */
  WeakGet = 10,
  /** {inv, id}: the settlement of the pending promise behind a remote reference, when it comes; body: {ok, v}. */
  Await = 11,
  /**
   * {inv, id, method, key | keyId}: what `get`, `peek`, `has` or `delete` of the LRUCache behind a
   * remote reference returns now, computed without changing the cache; body: the value (a boolean
   * for has and delete); reply header {gone: true} when the get would delete a stale entry. The
   * worker logs the call; the server replays it at the commit point and refuses the commit if it
   * then returns something else.
   */
  LruRead = 12,
  Ok = 64,
  Error = 65,
}

const KNOWN = new Set([2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 64, 65]);

export interface Frame {
  type: MsgType;
  id: number;
  header: Record<string, unknown>;
  body: Uint8Array;
}

export const ChannelErrors = defineErrors('CHANNEL', {
  MALFORMED: ['BEEHIVE_ERR_CHANNEL_MALFORMED', 'malformed channel frame'],
  VERSION: ['BEEHIVE_ERR_CHANNEL_VERSION', 'unsupported channel protocol version'],
  UNKNOWN_TYPE: ['BEEHIVE_ERR_CHANNEL_UNKNOWN_TYPE', 'unknown channel message type'],
  TOO_LARGE: ['BEEHIVE_ERR_CHANNEL_TOO_LARGE', 'channel frame too large'],
  AUTH: ['BEEHIVE_ERR_CHANNEL_AUTH', 'invocation capability refused'],
  FORBIDDEN: ['BEEHIVE_ERR_CHANNEL_FORBIDDEN', 'object not reachable from this invocation'],
  NOT_FOUND: ['BEEHIVE_ERR_CHANNEL_NOT_FOUND', 'no such object'],
  MODULE: ['BEEHIVE_ERR_CHANNEL_MODULE', 'module fallback refused'],
  CLOSED: ['BEEHIVE_ERR_CHANNEL_CLOSED', 'channel closed'],
  TIMEOUT: ['BEEHIVE_ERR_CHANNEL_TIMEOUT', 'channel request timed out'],
  CONFLICT: ['BEEHIVE_ERR_CHANNEL_CONFLICT', 'commit conflicts with newer server state'],
  LOCK: ['BEEHIVE_ERR_CHANNEL_LOCK', 'lock operation refused'],
  DEADLOCK: ['BEEHIVE_ERR_CHANNEL_DEADLOCK', 'lock refused: waiting would deadlock'],
  ENDED: ['BEEHIVE_ERR_CHANNEL_ENDED', 'the invocation has already been committed or closed'],
  REMOTE: ['BEEHIVE_ERR_CHANNEL_REMOTE', 'server-side call failed'],
  OPTIONS: ['BEEHIVE_ERR_CHANNEL_OPTIONS', 'invalid channel server option', RangeError],
});

export function encodeFrame(type: MsgType, id: number, header: Record<string, unknown>, body?: Uint8Array): Buffer {
  const h = Buffer.from(JSON.stringify(header));
  const out = Buffer.allocUnsafe(11 + h.length + (body?.byteLength ?? 0));
  out[0] = FRAME_MAGIC;
  out[1] = PROTOCOL_VERSION;
  out[2] = type;
  out.writeUInt32BE(id >>> 0, 3);
  out.writeUInt32BE(h.length, 7);
  h.copy(out, 11);
  if (body) out.set(body, 11 + h.length);
  return out;
}

/** Parses one frame; throws a coded ChannelError on anything malformed. */
export function decodeFrame(buf: Uint8Array): Frame {
  if (buf.byteLength < 11) throw ChannelErrors.MALFORMED(`frame of ${buf.byteLength} bytes is shorter than its header`);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b[0] !== FRAME_MAGIC) throw ChannelErrors.MALFORMED('bad magic byte');
  if (b[1] !== PROTOCOL_VERSION) throw ChannelErrors.VERSION(`got ${b[1]}, speak ${PROTOCOL_VERSION}`);
  const type = b[2];
  if (!KNOWN.has(type)) throw ChannelErrors.UNKNOWN_TYPE(`type ${type}`);
  const id = b.readUInt32BE(3);
  const hlen = b.readUInt32BE(7);
  if (hlen > MAX_HEADER_BYTES) throw ChannelErrors.TOO_LARGE(`header of ${hlen} bytes`);
  if (11 + hlen > b.length) throw ChannelErrors.MALFORMED('truncated header');
  let header: unknown;
  try {
    header = JSON.parse(b.toString('utf8', 11, 11 + hlen));
  } catch (err) {
    throw ChannelErrors.MALFORMED('header is not JSON', { cause: err });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw ChannelErrors.MALFORMED('header is not an object');
  return { type, id, header: header as Record<string, unknown>, body: b.subarray(11 + hlen) };
}

/** Reads a required string field of a header with a coded error. */
export function headerString(f: Frame, name: string, max = 4096): string {
  const v = f.header[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw ChannelErrors.MALFORMED(`header field '${name}' must be a non-empty string`);
  return v;
}

export function headerInt(f: Frame, name: string): number {
  const v = f.header[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw ChannelErrors.MALFORMED(`header field '${name}' must be a non-negative integer`);
  return v;
}
