/**
 * Prepared hand-offs and pool grants. A hand-off id (128 random bits, hex) lets one worker connection
 * continue a client's backend session; it is single use, expires, and when prepared with a
 * capability the worker must also present that capability as its password (SCRAM). A pool grant is
 * the same kind of credential for a worker's pg.Pool: many connections, served by the backend pool,
 * until it expires.
 */
import { randomBytes } from 'node:crypto';
import { ProxyErrors } from './errors';
import { makeVerifier, type ScramVerifier } from './auth/scram';

export interface HandoffRequest {
  /** The client's BackendKeyData as the proxy sent it (pg: `client.processID`). */
  processId: number;
  /** pg: `client.secretKey`. */
  secretKey: number;
  /** When given, the worker must present it as its password. */
  capability?: string;
  /** Lifetime of the id; default `handoffTtlMs`. */
  ttlMs?: number;
  /** Run the worker's connection as a shadow session (rolled back). */
  shadow?: boolean;
}

export interface HandoffTicket {
  /** 32 hex chars. */
  id: string;
  /** The startup user a worker connects with: `handoff.<id>`. */
  user: string;
  /** Epoch ms after which the id is refused. */
  expiresAt: number;
}

export interface PoolGrantRequest {
  capability?: string;
  ttlMs?: number;
  shadow?: boolean;
}

export interface PoolGrant {
  id: string;
  /** `grant.<id>` */
  user: string;
  expiresAt: number;
}

export interface Credential {
  kind: 'handoff' | 'grant';
  id: string;
  processId: number;
  secretKey: number;
  verifier: ScramVerifier | null;
  shadow: boolean;
  expiresAt: number;
  used: boolean;
}

/** The capability is itself a high-entropy secret: few PBKDF2 rounds keep hand-offs fast. */
const kCapabilityIterations = 16;
const kIdPattern = /^[0-9a-f]{32}$/;

export class HandoffRegistry {
  private readonly records = new Map<string, Credential>();
  private readonly sweeper: NodeJS.Timeout;
  prepared = 0;

  constructor(private readonly defaultTtlMs: number) {
    this.sweeper = setInterval(() => this.sweep(), 5_000);
    this.sweeper.unref();
  }

  prepare(req: HandoffRequest): HandoffTicket {
    const c = this.add('handoff', req.ttlMs, req.capability, !!req.shadow, req.processId, req.secretKey);
    return { id: c.id, user: `handoff.${c.id}`, expiresAt: c.expiresAt };
  }

  grant(req: PoolGrantRequest = {}): PoolGrant {
    const c = this.add('grant', req.ttlMs, req.capability, !!req.shadow, 0, 0);
    return { id: c.id, user: `grant.${c.id}`, expiresAt: c.expiresAt };
  }

  /** Looks up the credential in a startup user name; a hand-off id is consumed by the first attempt. */
  take(kind: 'handoff' | 'grant', id: string): Credential {
    if (!kIdPattern.test(id)) throw ProxyErrors.HANDOFF_UNKNOWN('malformed id');
    const c = this.records.get(id);
    if (!c || c.kind !== kind) throw ProxyErrors.HANDOFF_UNKNOWN();
    if (c.used) throw ProxyErrors.HANDOFF_USED();
    if (Date.now() > c.expiresAt) throw ProxyErrors.HANDOFF_EXPIRED();
    if (kind === 'handoff') c.used = true;
    return c;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.records.clear();
  }

  private add(kind: Credential['kind'], ttlMs: number | undefined, capability: string | undefined, shadow: boolean, processId: number, secretKey: number): Credential {
    if (ttlMs !== undefined && (!Number.isInteger(ttlMs) || ttlMs < 1)) throw ProxyErrors.CONTROL_BAD_REQUEST('ttlMs must be a positive integer');
    if (capability !== undefined && (typeof capability !== 'string' || capability === '')) throw ProxyErrors.CONTROL_BAD_REQUEST('capability must be a non-empty string');
    const id = randomBytes(16).toString('hex');
    const c: Credential = {
      kind,
      id,
      processId,
      secretKey,
      verifier: capability ? makeVerifier(capability, kCapabilityIterations) : null,
      shadow,
      expiresAt: Date.now() + (ttlMs ?? this.defaultTtlMs),
      used: false,
    };
    this.records.set(id, c);
    this.prepared++;
    return c;
  }

  /** Keeps expired and used records one more minute so late attempts get a precise error. */
  private sweep(): void {
    const now = Date.now();
    for (const [id, c] of this.records) if (now > c.expiresAt + 60_000) this.records.delete(id);
  }
}
