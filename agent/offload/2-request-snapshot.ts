import Module from 'node:module';
import path from 'node:path';
import type { Request, Response } from 'express';
import { markLazy, markStructural } from '../capture/closure';
import { packageSpec } from '../capture/module-index';
import { snapshotSession } from './2-session-snapshot';

/** Own fields of Node's IncomingMessage and of Express's routing that are transport, not request data. */
const REQ_SKIP = new Set([
  'socket', 'client', 'connection', 'res', 'next', 'rawHeaders', 'rawTrailers', 'headers', 'headersDistinct', 'trailers',
  'trailersDistinct', 'upgrade', 'aborted', 'complete', 'statusCode', 'statusMessage', 'httpVersionMajor', 'httpVersionMinor',
  'joinDuplicateHeaders', 'readable', 'destroyed', 'closed', 'errored', 'readableEnded', 'readableFlowing', 'app', 'route',
]);

/** Own fields of Node's ServerResponse: everything else on `res` was put there by the app. */
const RES_SKIP = new Set([
  'outputData', 'outputSize', 'writable', 'destroyed', 'chunkedEncoding', 'shouldKeepAlive', 'maxRequestsOnConnectionReached',
  'useChunkedEncodingByDefault', 'sendDate', 'strictContentLength', 'finished', 'socket', 'connection', 'req', 'locals',
  'statusCode', 'statusMessage', 'app',
]);

interface ExpressParts {
  /** Package paths (`express/lib/request.js`) the worker requires from its own dependencies. */
  proto?: string;
  utils?: string;
  /** Express's prototype object itself: what lies between it and the request is the app's. */
  base?: object;
}

const partsCache = new WeakMap<object, ExpressParts>();
const modCache = () => (Module as unknown as { _cache: Record<string, { exports: unknown; filename: string }> })._cache;

/**
 * Express's own request (or response) prototype under the app's (`app.request` inherits it), and
 * its `lib/utils.js`, named as package paths: the worker's copies of Express compute `req.ip`,
 * `req.query`, `res.get()` exactly as the server's would.
 */
function expressParts(obj: object, file: 'request.js' | 'response.js'): ExpressParts {
  const appProto = Object.getPrototypeOf(obj) as object | null;
  if (!appProto) return {};
  let parts = partsCache.get(appProto);
  if (parts) return parts;
  parts = {};
  const byExports = new Map<unknown, string>();
  for (const m of Object.values(modCache())) if (m.filename.endsWith(`${path.sep}lib${path.sep}${file}`)) byExports.set(m.exports, m.filename);
  for (let p = appProto as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const filename = byExports.get(p);
    if (!filename) continue;
    const proto = packageSpec(filename);
    const utils = packageSpec(path.join(path.dirname(filename), 'utils.js'));
    if (proto && utils) parts = { proto, utils, base: p };
    break;
  }
  partsCache.set(appProto, parts);
  return parts;
}

/**
 * What the app added to `app.request` / `app.response` (`app.response.message = function ...`),
 * mounted apps' included: own properties of the prototypes between the object and Express's.
 */
function appExtensions(obj: object, base: object | undefined): Record<string, unknown> | undefined {
  if (!base) return undefined;
  let ext: Record<string, unknown> | undefined;
  const chain: object[] = [];
  for (let p = Object.getPrototypeOf(obj) as object | null; p && p !== base; p = Object.getPrototypeOf(p)) chain.push(p);
  for (let i = chain.length - 1; i >= 0; i--) {
    for (const k of Object.getOwnPropertyNames(chain[i])) {
      if (k === 'app') continue;
      const d = Object.getOwnPropertyDescriptor(chain[i], k);
      if (!d || !('value' in d)) continue;
      (ext ??= {})[k] = d.value;
    }
  }
  if (ext) markStructural(ext);
  return ext;
}

export interface RequestSnapshot {
  props: Record<string, unknown>;
  headers: Record<string, unknown>;
  socket: Record<string, unknown>;
  proto?: string;
  utils?: string;
  ext?: Record<string, unknown>;
  app: { locals: unknown; settings: unknown; hot: Record<string, unknown> };
  session?: unknown;
}

/**
 * The request as the handler may see it (DESIGN.md §3 step 4): its own properties (method, url,
 * params, parsed body, cookies, whatever middleware attached: `req.user`), its headers and the
 * socket's addresses. Values keep their identity: a `req.user` that is an object of the server's
 * state maps back to it. Express's computed getters (`req.ip`, `req.hostname`, `req.protocol`,
 * `req.query` in Express 5) are not computed here: the worker computes them when read.
 */
// The small records below are the same from one request to the next (a route, a keep-alive
// socket, an app's settings): made once and reused, so a request costs no new objects for them.
const routes = new WeakMap<object, object>();
function routeView(route: { path: string; methods: Record<string, boolean> }): object {
  let v = routes.get(route);
  if (!v) {
    v = { path: route.path, methods: { ...route.methods } };
    markStructural(v, (v as { methods: object }).methods);
    routes.set(route, v);
  }
  return v;
}

const sockets = new WeakMap<object, Record<string, unknown>>();
function socketView(s: (Request['socket'] & { encrypted?: boolean }) | undefined): Record<string, unknown> {
  if (!s) return {};
  let v = sockets.get(s);
  if (!v) {
    v = { remoteAddress: s.remoteAddress, remotePort: s.remotePort, remoteFamily: s.remoteFamily, localAddress: s.localAddress, localPort: s.localPort, encrypted: !!s.encrypted };
    markStructural(v);
    sockets.set(s, v);
  }
  return v;
}

/** Settings every computed getter reads: inline, while the whole settings object stays a lazy reference. */
const HOT = ['trust proxy', 'query parser', 'subdomain offset'];
const hots = new WeakMap<object, Record<string, unknown>>();
function hotSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const v = hots.get(settings);
  if (v && HOT.every((k) => Object.is(v[k], settings[k]))) return v;
  const fresh: Record<string, unknown> = {};
  for (const k of HOT) fresh[k] = settings[k];
  markStructural(fresh);
  hots.set(settings, fresh);
  return fresh;
}

export function snapshotRequest(req: Request): RequestSnapshot {
  const r = req as unknown as Record<string, unknown>;
  const props: Record<string, unknown> = {};
  const session = snapshotSession(req);
  const cookieSession = session?.kind === 'cookie-session';
  for (const k of Object.keys(req)) {
    if (k.charCodeAt(0) === 95 /* _ */ || REQ_SKIP.has(k) || k === 'session' || k === 'sessionStore' || (cookieSession && k === 'sessionOptions')) continue;
    props[k] = r[k];
  }
  if (req.route) props.route = routeView(req.route);
  const socket = socketView(req.socket);
  const settings = req.app.settings as Record<string, unknown>;
  const hot = hotSettings(settings);
  markLazy(settings);
  const { proto, utils, base } = expressParts(req, 'request.js');
  const snap: RequestSnapshot = { props, headers: req.headers as Record<string, unknown>, socket, app: { locals: req.app.locals, settings, hot } };
  if (proto && utils) {
    snap.proto = proto;
    snap.utils = utils;
    const ext = appExtensions(req, base);
    if (ext) snap.ext = ext;
  }
  if (session) snap.session = session;
  else if (Object.prototype.hasOwnProperty.call(req, 'session')) props.session = r.session;
  if (session) {
    const o = session as { data?: unknown; cookie?: unknown; options?: { own: unknown; inherited: unknown } };
    markStructural(session, o.data, o.cookie, o.options, o.options?.own, o.options?.inherited);
  }
  return snap;
}

export function snapshotResponse(res: Response): { locals: unknown; statusCode: number; headers: Record<string, unknown>; props: Record<string, unknown>; proto?: string; ext?: Record<string, unknown> } {
  const o = res as unknown as Record<string, unknown>;
  const props: Record<string, unknown> = {};
  for (const k of Object.keys(res)) {
    if (k.charCodeAt(0) === 95 || RES_SKIP.has(k)) continue;
    props[k] = o[k];
  }
  const headers = { ...res.getHeaders() };
  markStructural(props, headers);
  const { proto, base } = expressParts(res, 'response.js');
  const ext = proto ? appExtensions(res, base) : undefined;
  return { locals: res.locals, statusCode: res.statusCode, headers, props, ...(proto ? { proto } : {}), ...(ext ? { ext } : {}) };
}
