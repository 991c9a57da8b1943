/** What every client session shares: options, the backend pool, registries and counters. */
import { randomInt } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import type { ResolvedProxyOptions } from './options';
import type { BackendPool } from './upstream/pool';
import type { HandoffRegistry } from './handoff';
import type { ScramVerifier } from './auth/scram';
import type { ClientSession } from './session/client-session';

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

/** Client sessions by the BackendKeyData the proxy gave them (CancelRequest, hand-off, shadow). */
export class SessionRegistry {
  private readonly byPid = new Map<number, ClientSession>();

  register(s: ClientSession): { processId: number; secretKey: number } {
    let pid: number;
    do pid = randomInt(1, 0x7fffffff);
    while (this.byPid.has(pid));
    this.byPid.set(pid, s);
    return { processId: pid, secretKey: randomInt(-0x80000000, 0x7fffffff) };
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
}
