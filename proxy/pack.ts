/**
 * Packageables for pg: a `Client`, `PoolClient` or `Pool` on the server becomes a plain JSON record
 * (protocol/pg-records.ts); on a worker offload-worker/pg-unpack.ts makes it a real pg object
 * connected through the proxy. A client continues the server's own session by hand-off (an open
 * transaction included); a pool gets a grant and is served by the proxy's backend pool.
 */
import type { HandoffRequest, HandoffTicket, PoolGrant, PoolGrantRequest } from './handoff';
import type { PgClientRecord, PgPoolRecord, PgRecord } from '../protocol';
import { ProxyErrors } from './errors';

export type { PgClientRecord, PgPoolRecord, PgRecord } from '../protocol';

type MaybePromise<T> = T | Promise<T>;

export interface PackContext {
  /** Where workers reach the proxy (its address as seen from the worker). */
  proxy: { host: string; port: number; database?: string };
  /** The in-process handle's or a control client's method. */
  prepareHandoff(req: HandoffRequest): MaybePromise<HandoffTicket>;
  preparePoolGrant?(req: PoolGrantRequest): MaybePromise<PoolGrant>;
  /** The invocation's capability: the worker presents it as its password. */
  capability?: string;
  /** Worker connections run as shadow sessions (everything rolled back). */
  shadow?: boolean;
  /**
   * Hand-offs of pg Clients and pool grants are prepared with deferCommit: nothing the worker does
   * commits before the agent's finishHandoff / finishPoolGrant (the records carry the id).
   */
  deferCommit?: boolean;
  /** Lifetime of hand-off ids and grants. */
  ttlMs?: number;
  /**
   * Addresses at which the app's clients reach the proxy, when they differ from `proxy`
   * (e.g. the proxy listens on 0.0.0.0 for workers and the app uses 127.0.0.1).
   */
  proxyAliases?: Array<{ host: string; port: number }>;
}

interface ClientLike {
  processID: number | null;
  secretKey: number | null;
  host: string;
  port: number;
  database?: string;
  query: unknown;
  connect: unknown;
  release?: unknown;
}

interface PoolLike {
  options: { max?: number; database?: string; host?: string; port?: number };
  totalCount: number;
  idleCount: number;
  connect: unknown;
  query: unknown;
}

let pgCache: { Client?: unknown; Pool?: unknown } | undefined;
/** The app's pg classes, looked up once: a require per checked value cost microseconds each, on every capture. */
function pgClasses(): { Client?: unknown; Pool?: unknown } {
  if (pgCache) return pgCache;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    pgCache = require('pg') as { Client?: unknown; Pool?: unknown };
  } catch {
    // Not installed (yet): asked again next time, without caching the absence.
    return {};
  }
  return pgCache;
}

/**
 * Whether `v` has the two methods every pg Client, PoolClient and Pool has: cheap enough to ask of
 * every value a capture ships, leaving the full checks (which require pg: 3-23 µs per object,
 * measured) for those that pass.
 */
export function mayBePg(v: object): boolean {
  const o = v as { query?: unknown; connect?: unknown };
  return typeof o.query === 'function' && typeof o.connect === 'function';
}

/** A pg Client, PoolClient or Pool, by mayBePg's filter first. */
export function isPgObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && mayBePg(v) && (isPgClient(v) || isPgPool(v));
}

export function isPgClient(v: unknown): v is ClientLike {
  if (v === null || typeof v !== 'object') return false;
  const { Client } = pgClasses();
  if (typeof Client === 'function' && v instanceof (Client as new () => object)) return true;
  const c = v as Record<string, unknown>;
  return typeof c.query === 'function' && typeof c.connect === 'function' && 'processID' in c && 'secretKey' in c && 'connectionParameters' in c;
}

export function isPgPool(v: unknown): v is PoolLike {
  if (v === null || typeof v !== 'object') return false;
  const { Pool } = pgClasses();
  if (typeof Pool === 'function' && v instanceof (Pool as new () => object)) return true;
  const p = v as Record<string, unknown>;
  return typeof p.connect === 'function' && typeof p.query === 'function' && typeof p.totalCount === 'number' && typeof p.options === 'object';
}

/**
 * Packs a pg Client, PoolClient or Pool; `undefined` for anything else. Synchronous when the
 * context's functions are (the in-process handle), a promise otherwise (the HTTP control client).
 */
export function packPg(value: unknown, ctx: PackContext): MaybePromise<PgRecord> | undefined {
  if (isPgClient(value)) {
    const c = value;
    const local = [ctx.proxy, ...(ctx.proxyAliases ?? [])].some((a) => a.port === c.port && sameHost(a.host, c.host));
    if (!local || c.processID == null || c.secretKey == null) {
      const err = ProxyErrors.NOT_PROXIED(`connected to ${c.host}:${c.port}${c.processID == null ? ' (not connected)' : ''}`);
      // A client of the proxy that has not finished connecting yet: this request stays on the server,
      // the next ones can be offloaded (not a property of the handler).
      if (local) Object.assign(err, { transient: true });
      throw err;
    }
    const ticket = ctx.prepareHandoff({ processId: c.processID, secretKey: c.secretKey, capability: ctx.capability, ttlMs: ctx.ttlMs, shadow: ctx.shadow, ...(ctx.deferCommit ? { deferCommit: true } : {}) });
    const make = (t: HandoffTicket): PgClientRecord => ({
      unpacker: 'pg.Client',
      v: 1,
      host: ctx.proxy.host,
      port: ctx.proxy.port,
      database: ctx.proxy.database ?? c.database ?? 'postgres',
      user: t.user,
      ...(ctx.capability ? { password: ctx.capability } : {}),
      poolClient: typeof c.release === 'function',
      ...(ctx.deferCommit ? { handoffId: t.id } : {}),
    });
    return isPromise(ticket) ? ticket.then(make) : make(ticket);
  }
  if (isPgPool(value)) {
    if (!ctx.preparePoolGrant) throw ProxyErrors.NOT_PROXIED('no preparePoolGrant in the pack context');
    const p = value;
    const grant = ctx.preparePoolGrant({ capability: ctx.capability, ttlMs: ctx.ttlMs, shadow: ctx.shadow, ...(ctx.deferCommit ? { deferCommit: true } : {}) });
    const make = (g: PoolGrant): PgPoolRecord => ({
      unpacker: 'pg.Pool',
      v: 1,
      host: ctx.proxy.host,
      port: ctx.proxy.port,
      database: ctx.proxy.database ?? p.options.database ?? 'postgres',
      user: g.user,
      ...(ctx.capability ? { password: ctx.capability } : {}),
      ...(p.options.max ? { max: p.options.max } : {}),
      ...(ctx.deferCommit ? { grantId: g.id } : {}),
    });
    return isPromise(grant) ? grant.then(make) : make(grant);
  }
  return undefined;
}

const isPromise = <T>(v: MaybePromise<T>): v is Promise<T> => typeof (v as Promise<T>)?.then === 'function';

const kLoopback = new Set(['127.0.0.1', 'localhost', '::1']);
const sameHost = (a: string, b: string): boolean => a === b || (kLoopback.has(a) && kLoopback.has(b));
