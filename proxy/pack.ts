/**
 * Packageables for pg: a `Client`, `PoolClient` or `Pool` on the server becomes a plain JSON record;
 * on a worker the record becomes a real pg object connected through the proxy. A client continues
 * the server's own session by hand-off (an open transaction included); a pool gets a grant and is
 * served by the proxy's backend pool.
 */
import type { HandoffRequest, HandoffTicket, PoolGrant, PoolGrantRequest } from './handoff';
import { ProxyErrors } from './errors';
import { debug } from './debug';

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

export interface PgClientRecord {
  unpacker: 'pg.Client';
  v: 1;
  host: string;
  port: number;
  database: string;
  /** `handoff.<id>` */
  user: string;
  /** The capability, when the hand-off is bound to one. */
  password?: string;
  /** The packed object was a pool's client: the unpacked one gets a `release()`. */
  poolClient: boolean;
  /** Present (the hand-off id) when the hand-off defers its commit: the agent finishes it with this id. */
  handoffId?: string;
}

export interface PgPoolRecord {
  unpacker: 'pg.Pool';
  v: 1;
  host: string;
  port: number;
  database: string;
  /** `grant.<id>` */
  user: string;
  password?: string;
  max?: number;
  /** Present (the grant id) when the grant defers its commit: the agent finishes it with this id. */
  grantId?: string;
}

export type PgRecord = PgClientRecord | PgPoolRecord;

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

interface PgModule {
  Client: new (config: Record<string, unknown>) => { connect(): Promise<void>; end(): Promise<void> } & Record<string, unknown>;
  Pool: new (config: Record<string, unknown>) => unknown;
}

/**
 * Builds the worker's pg object from a record. A Client is returned with `connect()` already under
 * way (pg queues queries until it is ready); `await client.connected` to see a connection error early.
 */
export function unpackPg(record: unknown, deps: { pg: unknown }): unknown {
  const r = record as PgRecord;
  const pg = deps.pg as PgModule;
  if (!r || typeof r !== 'object' || r.v !== 1 || typeof r.host !== 'string' || !Number.isInteger(r.port) || typeof r.user !== 'string') {
    throw ProxyErrors.BAD_RECORD('missing host, port, user or version');
  }
  const config = { host: r.host, port: r.port, database: r.database, user: r.user, password: r.password ?? 'none' };
  if (r.unpacker === 'pg.Client') {
    const client = new pg.Client(config);
    // The proxy closing the connection (finish, restart, shutdown) emits 'error' on an idle client:
    // without a listener that would kill the worker. Queries in flight still fail with the error.
    onError(client, 'client');
    const connected = client.connect();
    connected.catch(() => {}); // surfaced by queries and by `connected`
    Object.defineProperty(client, 'connected', { value: connected });
    if (r.poolClient) Object.defineProperty(client, 'release', { value: () => void client.end().catch(() => {}), configurable: true });
    return client;
  }
  if (r.unpacker === 'pg.Pool') {
    const pool = new pg.Pool({ ...config, ...(r.max ? { max: r.max } : {}) });
    // pg.Pool re-emits an idle client's error on the pool: the same reason as above.
    onError(pool, 'pool');
    return pool;
  }
  throw ProxyErrors.BAD_RECORD(`unknown unpacker ${String((r as { unpacker?: unknown }).unpacker)}`);
}

function onError(emitter: unknown, what: string): void {
  const e = emitter as { on?: (ev: string, fn: (err: Error) => void) => void };
  e.on?.('error', (err) => debug('unpacked pg %s: %s', what, err.message));
}

const isPromise = <T>(v: MaybePromise<T>): v is Promise<T> => typeof (v as Promise<T>)?.then === 'function';

const kLoopback = new Set(['127.0.0.1', 'localhost', '::1']);
const sameHost = (a: string, b: string): boolean => a === b || (kLoopback.has(a) && kLoopback.has(b));
