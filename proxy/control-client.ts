/**
 * Client of the HTTP control endpoint, for an agent whose proxy runs in another process. Its
 * methods match the in-process handle's, returning promises, so either can serve as the
 * `prepareHandoff` / `preparePoolGrant` of a pack context.
 */
import http from 'node:http';
import type { FinishRequest, FinishResult, HandoffRequest, HandoffTicket, PoolGrant, PoolGrantRequest } from './handoff';
import type { SessionKey } from './server';
import { ProxyErrors } from './errors';

export interface ControlClient {
  prepareHandoff(req: HandoffRequest): Promise<HandoffTicket>;
  finishHandoff(req: FinishRequest): Promise<FinishResult>;
  prepareHandoffCommit(req: { id: string }): Promise<void>;
  preparePoolGrant(req?: PoolGrantRequest): Promise<PoolGrant>;
  preparePoolGrantCommit(req: { id: string }): Promise<void>;
  finishPoolGrant(req: FinishRequest): Promise<FinishResult>;
  shadowBegin(key: SessionKey): Promise<void>;
  shadowEnd(key: SessionKey): Promise<void>;
}

/** How long one control call may take before it fails with CONTROL_UNAVAILABLE. */
const kCallTimeoutMs = 10_000;

export function createControlClient(opts: { url: string; token: string; timeoutMs?: number }): ControlClient {
  const base = new URL(opts.url);
  const timeoutMs = opts.timeoutMs ?? kCallTimeoutMs;
  // Every failure (refused, reset, timed out, an answer that is not JSON) rejects with a coded error:
  // a caller never sees a throw from a socket event.
  const call = <T>(path: string, body: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      const data = JSON.stringify(body ?? {});
      const req = http.request(
        {
          host: base.hostname,
          port: base.port,
          path,
          method: 'POST',
          headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => fail(ProxyErrors.CONTROL_UNAVAILABLE(`${path}: ${err.message}`, { cause: err })));
          res.on('end', () => {
            if (settled) return;
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: { error?: { code?: string; message?: string } } | undefined;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              return fail(ProxyErrors.CONTROL_UNAVAILABLE(`${path}: HTTP ${res.statusCode} with a body that is not JSON`));
            }
            if ((res.statusCode ?? 500) < 300) {
              settled = true;
              return resolve(parsed as T);
            }
            const e = parsed?.error ?? {};
            fail(Object.assign(ProxyErrors.CONTROL_BAD_REQUEST(e.message ?? `HTTP ${res.statusCode}`), { code: e.code ?? 'BEEHIVE_ERR_PROXY_CONTROL_BAD_REQUEST', status: res.statusCode }));
          });
        },
      );
      req.setTimeout(timeoutMs, () => {
        fail(ProxyErrors.CONTROL_UNAVAILABLE(`${path}: no answer within ${timeoutMs} ms`));
        req.destroy();
      });
      req.on('error', (err) => fail(ProxyErrors.CONTROL_UNAVAILABLE(`${path}: ${err.message}`, { cause: err })));
      req.end(data);
    });
  return {
    prepareHandoff: (req) => call('/v1/handoffs', req),
    finishHandoff: (req) => call(`/v1/handoffs/${encodeURIComponent(String(req?.id))}/finish`, { outcome: req?.outcome }),
    prepareHandoffCommit: (req) => call(`/v1/handoffs/${encodeURIComponent(String(req?.id))}/prepare`, {}),
    preparePoolGrant: (req) => call('/v1/pool-grants', req ?? {}),
    preparePoolGrantCommit: (req) => call(`/v1/pool-grants/${encodeURIComponent(String(req?.id))}/prepare`, {}),
    finishPoolGrant: (req) => call(`/v1/pool-grants/${encodeURIComponent(String(req?.id))}/finish`, { outcome: req?.outcome }),
    shadowBegin: (key) => call('/v1/shadow/begin', key),
    shadowEnd: (key) => call('/v1/shadow/end', key),
  };
}
