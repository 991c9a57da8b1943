/**
 * Small HTTP helpers of the admin server: JSON replies, coded errors, bounded JSON bodies and
 * bearer-token checks. No framework: the admin API is a handful of routes and must not pull one in.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BeehiveError } from '../../protocol';
import { AdminErrors, statusOf } from './errors';

const kCommonHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...kCommonHeaders,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export function sendText(res: ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...kCommonHeaders, 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendError(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): void {
  const e = err instanceof BeehiveError ? err : AdminErrors.INTERNAL(undefined, { cause: err });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, statusOf(e), { error: { code: e.code, message: e.message } }, headers);
}

/** Reads a JSON body of at most `limit` bytes; rejects with coded errors (415, 413, 400). */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') return Promise.reject(AdminErrors.UNSUPPORTED_MEDIA_TYPE(`got "${type || 'none'}"`));
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(AdminErrors.BODY_TOO_LARGE(`limit is ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: BeehiveError): void => {
      if (done) return;
      done = true;
      req.removeAllListeners('data');
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) fail(AdminErrors.BODY_TOO_LARGE(`limit is ${limit} bytes`));
      else chunks.push(chunk);
    });
    req.on('error', (err) => fail(AdminErrors.BAD_JSON('request aborted', { cause: err })));
    req.on('end', () => {
      if (done) return;
      done = true;
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(AdminErrors.BAD_JSON((err as Error).message, { cause: err }));
      }
    });
  });
}

// Hashing both sides first gives equal-length buffers, so the comparison time does not reveal
// the token's length or how many leading characters matched.
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : undefined;
}

const kLoopbackNames = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || address === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(address) || /^::ffff:127\./.test(address);
}

/** The hostname of a Host header (without port), lower-cased. */
export function hostName(header: string | undefined): string {
  if (!header) return '';
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.replace(/:\d+$/, '');
}

export function isLoopbackHost(header: string | undefined): boolean {
  const name = hostName(header);
  return kLoopbackNames.has(name) || /^127\.\d+\.\d+\.\d+$/.test(name) || name.endsWith('.localhost');
}
