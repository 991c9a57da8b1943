/**
 * The loopback HTTP control endpoint, for an agent in another process. Every request needs
 * `Authorization: Bearer <token>`. JSON in, JSON out:
 *   POST /v1/handoffs      {processId, secretKey, capability?, ttlMs?, shadow?, deferCommit?, finishTimeoutMs?} → 201 {id, user, expiresAt}
 *   POST /v1/handoffs/:id/finish {outcome: 'commit'|'rollback'}            → 200 {id, outcome, result}
 *   POST /v1/handoffs/:id/prepare {}                                          → 204
 *   POST /v1/pool-grants   {capability?, ttlMs?, shadow?, deferCommit?}      → 201 {id, user, expiresAt}
 *   POST /v1/pool-grants/:id/prepare {}                                       → 204
 *   POST /v1/pool-grants/:id/finish {outcome: 'commit'|'rollback'}            → 200 {id, outcome, result}
 *   POST /v1/shadow/begin  {processId, secretKey}                             → 204
 *   POST /v1/shadow/end    {processId, secretKey}                             → 204
 *   GET  /metrics          Prometheus text
 * Errors: {error: {code, message}} with 400 (bad request), 401 (token), 404 (no such session, hand-off
 * or route), 409 (hand-off already finished, or its commit failed), 410 (hand-off expired).
 */
import http from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import { ProxyErrors } from './errors';
import type { BeehiveError } from '../protocol/index';

export interface ControlOps {
  prepareHandoff(req: Record<string, unknown>): unknown;
  finishHandoff(req: Record<string, unknown>): Promise<unknown>;
  prepareHandoffCommit(req: Record<string, unknown>): Promise<void>;
  preparePoolGrant(req: Record<string, unknown>): unknown;
  preparePoolGrantCommit(req: Record<string, unknown>): Promise<void>;
  finishPoolGrant(req: Record<string, unknown>): Promise<unknown>;
  shadowBegin(req: Record<string, unknown>): void;
  shadowEnd(req: Record<string, unknown>): void;
  metrics(): Promise<string>;
}

const kMaxBody = 64 * 1024;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function startControl(opts: { host: string; port: number; token: string }, ops: ControlOps): Promise<http.Server> {
  const want = digest(`Bearer ${opts.token}`);
  const server = http.createServer((req, res) => {
    const reply = (status: number, body?: unknown, type = 'application/json') => {
      const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) }).end(text);
    };
    const fail = (err: unknown) => {
      const e = err as BeehiveError;
      const status = ProxyErrors.CONTROL_AUTH.is(e)
        ? 401
        : ProxyErrors.SESSION_NOT_FOUND.is(e) || ProxyErrors.HANDOFF_UNKNOWN.is(e)
          ? 404
          : ProxyErrors.HANDOFF_USED.is(e) || ProxyErrors.HANDOFF_COMMIT_FAILED.is(e)
            ? 409
            : ProxyErrors.HANDOFF_EXPIRED.is(e)
              ? 410
              : 400;
      reply(status, { error: { code: e.code ?? 'BEEHIVE_ERR_PROXY_CONTROL_BAD_REQUEST', message: e.message } });
    };
    // Compare digests: equal length, constant time.
    if (!timingSafeEqual(digest(req.headers.authorization ?? ''), want)) return fail(ProxyErrors.CONTROL_AUTH());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Bodies are small JSON objects: a larger one is not kept (and is refused at its end).
      if (size <= kMaxBody) chunks.push(c);
    });
    req.on('end', async () => {
      try {
        if (size > kMaxBody) throw ProxyErrors.CONTROL_BAD_REQUEST(`body larger than ${kMaxBody} bytes`);
        if (req.method === 'GET' && req.url === '/metrics') return reply(200, await ops.metrics(), 'text/plain; version=0.0.4');
        if (req.method !== 'POST') return reply(404, { error: { code: 'BEEHIVE_ERR_PROXY_CONTROL_BAD_REQUEST', message: 'no such route' } });
        let body: Record<string, unknown>;
        try {
          body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
        } catch {
          throw ProxyErrors.CONTROL_BAD_REQUEST('body is not JSON');
        }
        if (body === null || typeof body !== 'object' || Array.isArray(body)) throw ProxyErrors.CONTROL_BAD_REQUEST('body must be a JSON object');
        const step = /^\/v1\/(handoffs|pool-grants)\/([0-9a-zA-Z%]{1,96})\/(prepare|finish)$/.exec(req.url ?? '');
        if (step) {
          const r = { ...body, id: decodeURIComponent(step[2]) };
          const grant = step[1] === 'pool-grants';
          if (step[3] === 'finish') return reply(200, await (grant ? ops.finishPoolGrant(r) : ops.finishHandoff(r)));
          await (grant ? ops.preparePoolGrantCommit(r) : ops.prepareHandoffCommit(r));
          return reply(204);
        }
        switch (req.url) {
          case '/v1/handoffs':
            return reply(201, ops.prepareHandoff(body));
          case '/v1/pool-grants':
            return reply(201, ops.preparePoolGrant(body));
          case '/v1/shadow/begin':
            ops.shadowBegin(body);
            return reply(204);
          case '/v1/shadow/end':
            ops.shadowEnd(body);
            return reply(204);
          default:
            return reply(404, { error: { code: 'BEEHIVE_ERR_PROXY_CONTROL_BAD_REQUEST', message: 'no such route' } });
        }
      } catch (err) {
        fail(err);
      }
    });
  });
  // A slow or stalled request does not hold a socket for long.
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.maxHeadersCount = 50;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve(server));
  });
}
