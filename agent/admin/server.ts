/**
 * The admin server (DESIGN §5): dashboard, state, series, metrics, and the two changes an operator
 * may make (global ratio, per-handler mode). Plain node:http; bound to loopback by default.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HandlerMode } from '../state';
import { dashboardHeaders, dashboardHtml } from './dashboard-page';
import { AdminErrors } from './errors';
import { bearerToken, isLoopbackAddress, isLoopbackHost, readJsonBody, sendError, sendJson, sendText, tokenMatches } from './http-util';
import { createMetrics, type AgentMetrics } from './metrics';
import { validateAdminOptions, type AdminOptions, type ResolvedAdminOptions } from './options';
import { createSeriesSampler, type SeriesSampler } from './series';

export interface AdminServer {
  readonly address: AddressInfo;
  /** `http://host:port` of the dashboard. */
  readonly url: string;
  readonly series: SeriesSampler | undefined;
  readonly metrics: AgentMetrics;
  close(): Promise<void>;
}

const kModes: ReadonlySet<string> = new Set<HandlerMode>(['auto', 'off', 'always']);
const kHandlerPrefix = '/api/handlers/';

/** Allowed methods of each fixed route; HEAD goes with GET. */
const kRoutes: Record<string, string[]> = {
  '/': ['GET', 'HEAD'],
  '/api/state': ['GET', 'HEAD'],
  '/api/series': ['GET', 'HEAD'],
  '/metrics': ['GET', 'HEAD'],
  '/api/ratio': ['PUT'],
};

function isSampler(x: unknown): x is SeriesSampler {
  return typeof (x as SeriesSampler).sample === 'function' && typeof (x as SeriesSampler).points === 'function';
}

export async function startAdminServer(options: AdminOptions): Promise<AdminServer> {
  const o: ResolvedAdminOptions = validateAdminOptions(options);
  const { control } = o;
  const metrics = createMetrics(control, { defaultMetrics: o.defaultMetrics });
  const ownsSeries = o.series !== false && !isSampler(o.series);
  const series = o.series === false ? undefined : isSampler(o.series) ? o.series : createSeriesSampler(control, o.series);
  let loopback = isLoopbackAddress(o.host);

  function authorizeChange(req: IncomingMessage): void {
    if (o.token !== undefined) {
      const presented = bearerToken(req);
      if (presented === undefined) throw AdminErrors.UNAUTHORIZED();
      if (!tokenMatches(presented, o.token)) throw AdminErrors.FORBIDDEN();
      return;
    }
    if (o.allowUnauthenticatedChanges && loopback) return;
    throw AdminErrors.CHANGES_DISABLED('set BEEHIVE_ADMIN_TOKEN');
  }

  /** Who made a change, for the agent's event log: the dashboard says so; others by user agent. */
  function sourceOf(req: IncomingMessage): { by: string; remote?: string } {
    const ua = String(req.headers['user-agent'] ?? '').split(' ')[0].slice(0, 40);
    const by = req.headers['x-beehive-client'] === 'dashboard' ? 'dashboard' : `admin API${ua ? ` (${ua})` : ''}`;
    return { by, ...(req.socket.remoteAddress ? { remote: req.socket.remoteAddress } : {}) };
  }

  async function putRatio(req: IncomingMessage, res: ServerResponse): Promise<void> {
    authorizeChange(req);
    const body = (await readJsonBody(req, o.bodyLimit)) as { ratio?: unknown } | null;
    const ratio = body !== null && typeof body === 'object' ? body.ratio : undefined;
    if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
      throw AdminErrors.BAD_RATIO(`got ${JSON.stringify(ratio) ?? 'undefined'}`);
    }
    control.setRatio(ratio, sourceOf(req));
    sendJson(res, 200, { ratio: control.getState().ratio });
  }

  async function putHandlerMode(req: IncomingMessage, res: ServerResponse, rawId: string): Promise<void> {
    authorizeChange(req);
    let id: string;
    try {
      id = decodeURIComponent(rawId);
    } catch (err) {
      throw AdminErrors.BAD_HANDLER_ID(undefined, { cause: err });
    }
    const body = (await readJsonBody(req, o.bodyLimit)) as { mode?: unknown } | null;
    const mode = body !== null && typeof body === 'object' ? body.mode : undefined;
    if (typeof mode !== 'string' || !kModes.has(mode)) throw AdminErrors.BAD_MODE(`got ${JSON.stringify(mode) ?? 'undefined'}`);
    const known = control.getState().handlers.some((h) => h.id === id);
    if (!known || !control.setHandlerMode(id, mode as HandlerMode, sourceOf(req))) throw AdminErrors.UNKNOWN_HANDLER(JSON.stringify(id));
    const handler = control.getState().handlers.find((h) => h.id === id);
    sendJson(res, 200, { id, mode: handler?.mode ?? mode });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Bound to loopback, the server answers only requests addressed to a loopback name: a web page
    // elsewhere cannot reach it through DNS rebinding.
    if (loopback && !isLoopbackHost(req.headers.host)) throw AdminErrors.HOST_NOT_ALLOWED();
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const isHandlerRoute = path.startsWith(kHandlerPrefix) && path.length > kHandlerPrefix.length;
    const allowed = isHandlerRoute ? ['PUT'] : kRoutes[path];
    if (!allowed) throw AdminErrors.NOT_FOUND(path);
    if (!allowed.includes(method)) {
      res.setHeader('allow', allowed.join(', '));
      throw AdminErrors.METHOD_NOT_ALLOWED(`${method} ${path}`);
    }
    if (isHandlerRoute) return putHandlerMode(req, res, path.slice(kHandlerPrefix.length));
    switch (path) {
      case '/':
        return sendText(res, 200, dashboardHtml, 'text/html; charset=utf-8', dashboardHeaders);
      case '/api/state':
        return sendJson(res, 200, control.getState());
      case '/api/series': {
        const since = Number(url.searchParams.get('since') ?? NaN);
        const points = series ? series.points(Number.isFinite(since) ? since : undefined) : [];
        return sendJson(res, 200, { intervalMs: series?.intervalMs ?? 0, sloMs: control.getState().sloMs, points });
      }
      case '/metrics':
        return sendText(res, 200, await metrics.render(), metrics.contentType);
      case '/api/ratio':
        return putRatio(req, res);
    }
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      // After a refused body the rest of it is not read: close the connection instead of draining.
      const tooLarge = AdminErrors.BODY_TOO_LARGE.is(err) || AdminErrors.UNSUPPORTED_MEDIA_TYPE.is(err);
      sendError(res, err, tooLarge ? { connection: 'close' } : {});
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(AdminErrors.LISTEN_FAILED(`${o.host}:${o.port}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(o.port, o.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // The admin API never keeps the app alive on its own.
  server.unref();
  const address = server.address() as AddressInfo;
  loopback = isLoopbackAddress(address.address);
  if (ownsSeries) series?.start();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    address,
    url: `http://${host}:${address.port}`,
    series,
    metrics,
    close() {
      if (ownsSeries) series?.stop();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
