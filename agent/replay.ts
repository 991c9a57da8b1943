import type { Response } from 'express';
import { ChannelErrors } from '../protocol';

/** The response methods a worker's recording may call on the real response: nothing else. */
export const REPLAYABLE = [
  'status', 'set', 'header', 'setHeader', 'append', 'removeHeader', 'type', 'location', 'cookie', 'clearCookie', 'attachment',
  'vary', 'links', 'write', 'writeHead', 'json', 'jsonp', 'send', 'end', 'sendStatus', 'redirect', 'render', 'sendFile', 'download',
];
const ALLOWED = new Set(REPLAYABLE);

/** Replays a worker's recorded response on the real `res` (DESIGN.md §3 step 7). */
export function replayResponse(res: Response, calls: unknown): void {
  if (!Array.isArray(calls)) throw ChannelErrors.MALFORMED('response calls must be a list');
  for (const c of calls) {
    if (!Array.isArray(c) || typeof c[0] !== 'string') throw ChannelErrors.MALFORMED('response call must be [name, ...args]');
    const [name, ...args] = c as [string, ...unknown[]];
    if (name === 'statusCode=') {
      res.statusCode = Number(args[0]);
      continue;
    }
    if (!ALLOWED.has(name)) throw ChannelErrors.MALFORMED(`response method '${name}' is not replayable`);
    (res as unknown as Record<string, (...a: unknown[]) => unknown>)[name](...args);
  }
}
