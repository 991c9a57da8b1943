/** `startProxy`: the listening socket, the shared context, the control operations and shutdown. */
import net from 'node:net';
import tls from 'node:tls';
import type http from 'node:http';
import type { ProxyOptions, ResolvedProxyOptions } from './options';
import { changedKeys, kReloadable, resolveWithFile } from './config';
import { BackendPool } from './upstream/pool';
import { HandoffRegistry, type FinishRequest, type FinishResult, type HandoffRequest, type HandoffTicket, type PoolGrant, type PoolGrantRequest } from './handoff';
import { ProxyStats, SessionRegistry, type ProxyContext } from './context';
import { ClientSession } from './session/client-session';
import { beginShadow, endShadow } from './session/shadow';
import { shutdownSession } from './session/cleanup';
import { GrantTx } from './session/grant-tx';
import { makeVerifier } from './auth/scram';
import { createMetrics } from './metrics';
import { startControl } from './control-http';
import { ProxyErrors } from './errors';
import { debug } from './debug';
import { errorResponse } from './wire/backend-messages';
import { ProxyOptionErrors } from './option-errors';

/** A client session as the proxy identifies it: the BackendKeyData it sent the client. */
export interface SessionKey {
  processId: number;
  secretKey: number;
}

export interface ProxyHandle {
  /** Where clients connect. */
  readonly address: { host: string; port: number };
  /** `postgres://host:port/database`, without credentials. */
  readonly url: string;
  /** `http://host:port` of the control endpoint, or null. */
  readonly controlUrl: string | null;
  /** Prepares a hand-off of a client's session: single-use id, expiring, optionally capability-bound. */
  prepareHandoff(req: HandoffRequest): HandoffTicket;
  /**
   * Decides a hand-off prepared with `deferCommit`: 'commit' applies what the worker asked for (its
   * COMMIT, its ROLLBACK, or the original's transaction left open), 'rollback' undoes the worker's
   * part back to the splice. Resolves once done and the original has its session back; closes a
   * worker still connected first. Rejects with HANDOFF_UNKNOWN / _USED / _EXPIRED / _NOT_DEFERRED /
   * _COMMIT_FAILED (PostgreSQL's message: the transaction did not commit).
   */
  finishHandoff(req: FinishRequest): Promise<FinishResult>;
  /**
   * At the invocation's commit point, before its other effects are applied: closes the worker's
   * connection (after its in-flight work) and checks that the deferred hand-off's work can commit
   * (the claim was not refused, the session is alive, deferred constraints hold). Rejects with
   * HANDOFF_COMMIT_FAILED otherwise; finish('rollback') should follow.
   */
  prepareHandoffCommit(req: { id: string }): Promise<void>;
  /**
   * A credential a worker's pg.Pool connects with. Without `deferCommit` its connections are served
   * by the backend pool and commit at once; with it they share one backend in one transaction
   * until `finishPoolGrant`.
   */
  preparePoolGrant(req?: PoolGrantRequest): PoolGrant;
  /** As prepareHandoffCommit, for a deferred pool grant: all its connections are closed first. */
  preparePoolGrantCommit(req: { id: string }): Promise<void>;
  /** COMMIT ('commit') or ROLLBACK ('rollback') of a deferred pool grant's transaction; its backend returns to the pool. */
  finishPoolGrant(req: FinishRequest): Promise<FinishResult>;
  /** Everything the client runs from now on is rolled back in the end. */
  shadowBegin(key: SessionKey): void;
  /** Rolls back the client's shadow work and returns it to normal. */
  shadowEnd(key: SessionKey): void;
  /** Prometheus text. */
  metrics(): Promise<string>;
  /**
   * Reads `configFile` again (options given to startProxy still override it) and applies what can
   * change while running; the rest is listed in restartNeeded. Rejects with CONFIG_MISSING,
   * CONFIG_UNREADABLE or CONFIG_INVALID, the running configuration unchanged.
   */
  reload(): Promise<{ changed: string[]; restartNeeded: string[] }>;
  /**
   * Stops listening, closes every client (57P01) and backend. With `drainMs` (a graceful shutdown,
   * as PgBouncer's on SIGINT) clients with work under way — a transaction, a query, a pinned or
   * session-pooled backend — may finish it first, up to that long; each is closed once it has no
   * backend, and idle clients at once. New connections are refused (57P01) meanwhile.
   */
  close(options?: { drainMs?: number }): Promise<void>;
}

function sessionKey(req: unknown): SessionKey {
  const r = (req ?? {}) as Record<string, unknown>;
  const int32 = (v: unknown) => Number.isInteger(v) && (v as number) >= -0x80000000 && (v as number) <= 0x7fffffff;
  if (!int32(r.processId) || !int32(r.secretKey)) {
    throw ProxyErrors.CONTROL_BAD_REQUEST('processId and secretKey must be 32-bit integers');
  }
  return { processId: r.processId as number, secretKey: r.secretKey as number };
}

/** A synchronous validation error becomes a rejection, as callers of the control operations expect. */
function promised<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}

export async function startProxy(options: ProxyOptions): Promise<ProxyHandle> {
  const o = resolveWithFile(options);
  const stats = new ProxyStats();
  const ctx: ProxyContext = {
    options: o,
    pool: new BackendPool(o.upstream, {
      max: o.maxBackends,
      acquireTimeoutMs: o.acquireTimeoutMs,
      connectTimeoutMs: o.connectTimeoutMs,
      idleTimeoutMs: o.idleTimeoutMs,
      maxMessageSize: 1 << 30,
    }),
    stats,
    sessions: new SessionRegistry(),
    handoffs: new HandoffRegistry(o.handoffTtlMs),
    verifiers: new Map(Object.entries(o.users).map(([u, p]) => [u, makeVerifier(p)])),
    tls: o.tls ? tls.createSecureContext(o.tls) : null,
    closing: false,
    unauthenticated: 0,
    admin: null,
  };
  const reload = async (): Promise<{ changed: string[]; restartNeeded: string[] }> => {
    if (!o.configFile) throw ProxyErrors.CONFIG_MISSING('the proxy was started without configFile');
    const next = resolveWithFile(options);
    const changed = changedKeys(o, next);
    const now = changed.filter((k) => (kReloadable as readonly string[]).includes(k));
    const later = changed.filter((k) => !now.includes(k));
    for (const k of now) (o as unknown as Record<string, unknown>)[k] = (next as unknown as Record<string, unknown>)[k];
    const po = ctx.pool.options;
    po.max = o.maxBackends;
    po.acquireTimeoutMs = o.acquireTimeoutMs;
    po.connectTimeoutMs = o.connectTimeoutMs;
    po.idleTimeoutMs = o.idleTimeoutMs;
    ctx.pool.limitsChanged();
    if (now.includes('users')) {
      ctx.verifiers.clear();
      for (const [u, p] of Object.entries(o.users)) ctx.verifiers.set(u, makeVerifier(p));
    }
    debug('reloaded %s: changed %s; needing a restart %s', o.configFile, now.join(',') || '-', later.join(',') || '-');
    return { changed: now, restartNeeded: later };
  };
  if (o.configFile) ctx.admin = { reload };
  const registry = createMetrics(ctx);
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true);
    // Strangers count against maxClients too: sockets that never log in cannot pile up.
    if (ctx.sessions.size + ctx.unauthenticated >= o.maxClients) {
      stats.error('too_many_clients');
      socket.on('error', () => {});
      socket.end(errorResponse({ severity: 'FATAL', code: '53300', message: `sorry, too many clients already (limit ${o.maxClients})` }));
      return;
    }
    new ClientSession(socket, ctx);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.listen.port, o.listen.host, () => resolve());
  });
  const addr = server.address() as net.AddressInfo;
  const address = { host: o.listen.host, port: addr.port };
  debug('listening on %s:%d, upstream %s:%d/%s, %s pooling', address.host, address.port, o.upstream.host, o.upstream.port, o.upstream.database, o.poolMode);

  const find = (req: unknown) => {
    const k = sessionKey(req);
    const s = ctx.sessions.find(k.processId, k.secretKey);
    if (!s) throw ProxyErrors.SESSION_NOT_FOUND(`processId ${k.processId}`);
    return s;
  };
  const ops = {
    prepareHandoff(req: HandoffRequest): HandoffTicket {
      find(req);
      return ctx.handoffs.prepare(req);
    },
    finishHandoff(req: FinishRequest): Promise<FinishResult> {
      return promised(() => ctx.handoffs.finish(req));
    },
    prepareHandoffCommit(req: { id: string }): Promise<void> {
      return promised(() => ctx.handoffs.prepareCommit('handoff', req));
    },
    preparePoolGrant(req: PoolGrantRequest = {}): PoolGrant {
      // A grant's connections log in as the upstream user to the upstream database. Where clients may
      // log in as others (their own users, other databases), the app's pool the grant stands for may
      // be one of those, and the worker's queries would run elsewhere than the server's: refused,
      // so that the offload runs on the server instead.
      const other = otherLogins(ctx.options);
      if (other) throw ProxyErrors.GRANT_LOGIN(other);
      const g = ctx.handoffs.grant(req ?? {});
      const c = ctx.handoffs.get(g.id)!;
      if (c.deferCommit) c.grantTx = new GrantTx(ctx, c);
      return g;
    },
    preparePoolGrantCommit(req: { id: string }): Promise<void> {
      return promised(() => ctx.handoffs.prepareCommit('grant', req));
    },
    finishPoolGrant(req: FinishRequest): Promise<FinishResult> {
      return promised(() => ctx.handoffs.finishGrant(req));
    },
    shadowBegin(key: SessionKey): void {
      beginShadow(find(key));
    },
    shadowEnd(key: SessionKey): void {
      endShadow(find(key));
    },
    metrics: () => registry.metrics(),
    reload,
  };
  let control: http.Server | null = null;
  if (o.control) {
    control = await startControl(o.control, ops as never);
  }
  const controlAddr = control ? (control.address() as net.AddressInfo) : null;

  /** Closes sessions as they become idle (no backend, nothing waiting), until none is left or the time is up. */
  const drain = (ms: number) =>
    new Promise<void>((resolve) => {
      const deadline = Date.now() + ms;
      // No new work starts: a client between transactions that sends more waits, and is closed.
      void ctx.pool.pause();
      const sweep = () => {
        for (const s of [...ctx.sessions.all()]) {
          if (!s.backend && !s.heldBy && !s.handoff && !s.grant) shutdownSession(s);
        }
        if (ctx.sessions.size === 0 || Date.now() >= deadline) return resolve();
        setTimeout(sweep, 20).unref();
      };
      sweep();
    });

  return {
    address,
    url: `postgres://${address.host}:${address.port}/${encodeURIComponent(o.upstream.database)}`,
    controlUrl: controlAddr ? `http://${o.control!.host}:${controlAddr.port}` : null,
    ...ops,
    async close(opts?: { drainMs?: number }) {
      if (ctx.closing) return;
      const drainMs = opts?.drainMs ?? 0;
      if (!Number.isInteger(drainMs) || drainMs < 0 || drainMs > 2_147_483_647) throw ProxyOptionErrors.OPTION_RANGE('close: drainMs must be an integer from 0 to 2147483647');
      ctx.closing = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      if (drainMs > 0) await drain(drainMs);
      for (const s of [...ctx.sessions.all()]) shutdownSession(s);
      ctx.pool.close();
      for (const b of ctx.pool.all) b.destroy();
      ctx.handoffs.close();
      if (control) {
        control.closeAllConnections();
        await new Promise<void>((r) => control!.close(() => r()));
      }
      await closed;
    },
  };
}

/** Why clients may be served as another database or user than the upstream's; undefined when they cannot. */
function otherLogins(o: ResolvedProxyOptions): string | undefined {
  if (o.databases.some((d) => d !== o.upstream.database)) return `clients may name the databases ${o.databases.join(', ')}`;
  if (o.serverUser !== 'client') return undefined;
  if (o.auth === 'trust') return "with auth 'trust' and serverUser 'client', clients may log in as any user";
  const users = Object.keys(o.users).filter((u) => u !== o.upstream.user);
  return users.length > 0 ? `with serverUser 'client', clients may log in as ${users.join(', ')}` : undefined;
}
