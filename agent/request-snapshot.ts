import type { Request, Response } from 'express';
import { markLazy } from './capture/closure';

/** Fields an Express request carries that are transport internals, not request data. */
const SKIP = new Set([
  'socket', 'client', 'connection', 'res', 'next', 'rawHeaders', 'rawTrailers', 'headers', 'headersDistinct', 'trailers',
  'trailersDistinct', 'upgrade', 'aborted', 'complete', 'statusCode', 'statusMessage', 'httpVersionMajor', 'httpVersionMinor',
  'joinDuplicateHeaders', 'readable', 'destroyed', 'closed', 'errored', 'readableEnded', 'readableFlowing', 'app', 'route',
]);

/**
 * The request as the handler may see it (DESIGN.md §3 step 4): method, URL parts, params, query,
 * parsed body, headers, cookies, ip, and whatever middleware attached (req.user...). Values keep
 * their identity: a `req.user` that is an object of the server's state maps back to it.
 */
export function snapshotRequest(req: Request): { props: Record<string, unknown>; headers: Record<string, unknown>; app: { locals: unknown; settings: unknown } } {
  const props: Record<string, unknown> = {
    method: req.method,
    url: req.url,
    originalUrl: req.originalUrl,
    baseUrl: req.baseUrl,
    path: req.path,
    params: req.params,
    query: req.query,
    body: req.body,
    cookies: (req as { cookies?: unknown }).cookies,
    signedCookies: (req as { signedCookies?: unknown }).signedCookies,
    ip: req.ip,
    ips: req.ips,
    hostname: req.hostname,
    protocol: req.protocol,
    secure: req.secure,
    xhr: req.xhr,
    httpVersion: req.httpVersion,
    route: req.route ? { path: req.route.path, methods: { ...req.route.methods } } : undefined,
  };
  for (const k of Object.keys(req)) {
    if (k.startsWith('_') || SKIP.has(k) || k in props) continue;
    props[k] = (req as unknown as Record<string, unknown>)[k];
  }
  // Express's settings travel as a remote reference: few handlers read them (req.app.get('x')).
  markLazy(req.app.settings);
  return { props, headers: req.headers as Record<string, unknown>, app: { locals: req.app.locals, settings: req.app.settings } };
}

export function snapshotResponse(res: Response): { locals: unknown; statusCode: number; headers: Record<string, unknown> } {
  return { locals: res.locals, statusCode: res.statusCode, headers: { ...res.getHeaders() } };
}
