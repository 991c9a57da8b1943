/** What every client session shares: options, the backend pool, registries and counters. */
import { randomInt } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import type { ResolvedProxyOptions } from './options';
import type { BackendPool } from './upstream/pool';
import type { HandoffRegistry } from './handoff';
import type { ScramVerifier } from './auth/scram';
import type { ClientSession } from './session/client-session';
import type { AdminHooks } from './session/admin';

/** Plain counters, read by the metrics at scrape time (cheaper than prom-client calls per chunk). */
export class ProxyStats {
  clientsTotal = 0;
  bytesFromClients = 0;
  bytesToClients = 0;
  handoffsClaimed = 0;
  handoffsCompleted = 0;
  handoffsAborted = 0;
  handoffsRejected = 0;
  handoffsFinishCommit = 0;
  handoffsFinishRollback = 0;
  handoffsFinishTimeout = 0;
  shadowTotal = 0;
  readonly errors = new Map<string, number>();

  error(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }
}

/**
 * Process ids the proxy makes up start above Linux's largest pid (PID_MAX_LIMIT, 2^22), so that
 * they never collide with a server pid a session-pooled client is given instead.
 */
const kFirstProxyPid = 1 << 22;

/** Client sessions by the BackendKeyData the proxy gave them (CancelRequest, hand-off, shadow). */
export class SessionRegistry {
  private readonly byPid = new Map<number, ClientSession>();

  register(s: ClientSession): { processId: number; secretKey: number } {
    let pid: number;
    do pid = randomInt(kFirstProxyPid, 0x7fffffff);
    while (this.byPid.has(pid));
    this.byPid.set(pid, s);
    return { processId: pid, secretKey: randomInt(-0x80000000, 0x7fffffff) };
  }

  /**
   * Gives a session the server pid of the one backend that serves it for its whole life (session
   * pooling), so that pg_terminate_backend/pg_cancel_backend with the pid it was told act on its
   * own backend as on PostgreSQL. False (the proxy's pid stays) if the pid is taken.
   */
  rekey(s: ClientSession, pid: number): boolean {
    if (pid <= 0 || pid >= kFirstProxyPid || this.byPid.has(pid) || this.byPid.get(s.processId) !== s) return false;
    this.byPid.delete(s.processId);
    this.byPid.set(pid, s);
    s.processId = pid;
    return true;
  }

  unregister(s: ClientSession): void {
    if (this.byPid.get(s.processId) === s) this.byPid.delete(s.processId);
  }

  /** The session with this key, or undefined (the secret must match too). */
  find(processId: number, secretKey: number): ClientSession | undefined {
    const s = this.byPid.get(processId);
    return s && s.secretKey === secretKey ? s : undefined;
  }

  get size(): number {
    return this.byPid.size;
  }

  all(): IterableIterator<ClientSession> {
    return this.byPid.values();
  }
}

export interface ProxyContext {
  options: ResolvedProxyOptions;
  pool: BackendPool;
  stats: ProxyStats;
  sessions: SessionRegistry;
  handoffs: HandoffRegistry;
  verifiers: Map<string, ScramVerifier>;
  tls: SecureContext | null;
  closing: boolean;
  /** Client sockets that have not authenticated yet (bounded by maxClients too). */
  unauthenticated: number;
  /** What the admin console's RELOAD calls; null without a configuration file. */
  admin: AdminHooks | null;
}
