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
  preparePoolGrant(req?: PoolGrantRequest): Promise<PoolGrant>;
  shadowBegin(key: SessionKey): Promise<void>;
  shadowEnd(key: SessionKey): Promise<void>;
}

export function createControlClient(opts: { url: string; token: string }): ControlClient {
  const base = new URL(opts.url);
  const call = <T>(path: string, body: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
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
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const parsed = text ? JSON.parse(text) : undefined;
            if ((res.statusCode ?? 500) < 300) return resolve(parsed as T);
            const e = parsed?.error ?? {};
            reject(Object.assign(ProxyErrors.CONTROL_BAD_REQUEST(e.message ?? `HTTP ${res.statusCode}`), { code: e.code ?? 'BEEHIVE_ERR_PROXY_CONTROL_BAD_REQUEST', status: res.statusCode }));
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  return {
    prepareHandoff: (req) => call('/v1/handoffs', req),
    finishHandoff: (req) => call(`/v1/handoffs/${encodeURIComponent(String(req?.id))}/finish`, { outcome: req?.outcome }),
    preparePoolGrant: (req) => call('/v1/pool-grants', req ?? {}),
    shadowBegin: (key) => call('/v1/shadow/begin', key),
    shadowEnd: (key) => call('/v1/shadow/end', key),
  };
}
