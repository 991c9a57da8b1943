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
  /**
   * Defer the worker's COMMIT: its transaction control becomes savepoints and the session is held
   * after the worker leaves until `finishHandoff` decides (commit or roll back the worker's part).
   */
  deferCommit?: boolean;
  /** deferCommit: how long the held session waits for `finishHandoff` after the worker left, then rolls back; default `ttlMs`. */
  finishTimeoutMs?: number;
}

export interface FinishRequest {
  /** The hand-off id (`prepareHandoff(...).id`). */
  id: string;
  /** 'commit': apply what the worker asked for; 'rollback': undo the worker's part. */
  outcome: 'commit' | 'rollback';
}

export interface FinishResult {
  id: string;
  outcome: 'commit' | 'rollback';
  /**
   * What happened on the held session: 'committed' (COMMIT ran), 'rolled-back' (the worker's part,
   * or the whole transaction when the worker rolled it back, was undone), 'open' (the worker left the
   * original's transaction open: the original continues it with the worker's work), 'unused' (no
   * worker ever ran on the session; the id can no longer be claimed).
   */
  result: 'committed' | 'rolled-back' | 'open' | 'unused';
}

/** The pending decision on a claimed deferred hand-off (session/handoff-splice.ts). */
export interface HoldLike {
  finish(outcome: 'commit' | 'rollback'): Promise<FinishResult>;
  /** Closes the worker's connection and checks that the held work can commit. */
  prepare(): Promise<void>;
}

/** The held transaction of a deferred pool grant (session/grant-tx.ts). */
export interface GrantLike {
  finish(outcome: 'commit' | 'rollback'): Promise<FinishResult>;
  prepare(): Promise<void>;
  /** prepare or finish began: no new connection. */
  readonly sealed: boolean;
  /** finish (or the expiry rollback) began. */
  readonly closed: boolean;
  /** Why the grant's work cannot commit (a connection of it was refused or broken), or null. */
  failed: string | null;
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
  /**
   * All connections of the grant share one backend held in one transaction until
   * `finishPoolGrant` commits or rolls it back (session/grant-tx.ts); rolled back at expiry.
   * Ignored with `shadow` (a shadow rolls back anyway).
   */
  deferCommit?: boolean;
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
  /** The lifetime it was prepared with. */
  ttlMs: number;
  used: boolean;
  /** Hand-offs only. */
  deferCommit: boolean;
  finishTimeoutMs: number;
  /** Set at the claim of a deferred hand-off. */
  hold: HoldLike | null;
  /** A deferred pool grant's transaction (set by the server when the grant is prepared). */
  grantTx: GrantLike | null;
  /** The claim of this hand-off was refused (the original was gone, or busy too long): prepare fails. */
  refused: string | null;
  /** Prepared while unclaimed: a claim still waiting is refused. */
  sealed: boolean;
  /** finishHandoff was called (or the hold timed out: `timedOut`). */
  finished: boolean;
  timedOut: boolean;
}

/** The capability is itself a high-entropy secret: few PBKDF2 rounds keep hand-offs fast. */
const kCapabilityIterations = 16;
const kIdPattern = /^[0-9a-f]{32}$/;
/** Bounds of control values: an hour is far beyond any invocation, and keeps timers and records bounded. */
export const kMaxTtlMs = 3_600_000;
const kMaxCapability = 1024;
const inRange = (v: unknown, lo: number, hi: number): boolean => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

export class HandoffRegistry {
  private readonly records = new Map<string, Credential>();
  private readonly sweeper: NodeJS.Timeout;
  prepared = 0;

  constructor(private readonly defaultTtlMs: number) {
    this.sweeper = setInterval(() => this.sweep(), 5_000);
    this.sweeper.unref();
  }

  prepare(req: HandoffRequest): HandoffTicket {
    if (req.deferCommit !== undefined && typeof req.deferCommit !== 'boolean') throw ProxyErrors.CONTROL_BAD_REQUEST('deferCommit must be a boolean');
    const ft = req.finishTimeoutMs;
    if (ft !== undefined && !inRange(ft, 1, kMaxTtlMs)) throw ProxyErrors.CONTROL_BAD_REQUEST(`finishTimeoutMs must be an integer from 1 to ${kMaxTtlMs}`);
    const c = this.add('handoff', req.ttlMs, req.capability, req.shadow, req.processId, req.secretKey);
    c.deferCommit = req.deferCommit === true;
    c.finishTimeoutMs = ft ?? req.ttlMs ?? this.defaultTtlMs;
    return { id: c.id, user: `handoff.${c.id}`, expiresAt: c.expiresAt };
  }

  grant(req: PoolGrantRequest = {}): PoolGrant {
    if (req.deferCommit !== undefined && typeof req.deferCommit !== 'boolean') throw ProxyErrors.CONTROL_BAD_REQUEST('deferCommit must be a boolean');
    const c = this.add('grant', req.ttlMs, req.capability, req.shadow, 0, 0);
    c.deferCommit = req.deferCommit === true && !c.shadow;
    return { id: c.id, user: `grant.${c.id}`, expiresAt: c.expiresAt };
  }

  /** The credential with this id (server-internal). */
  get(id: string): Credential | undefined {
    return this.records.get(id);
  }

  /** Looks up the credential in a startup user name; a hand-off id is consumed by the first attempt. */
  take(kind: 'handoff' | 'grant', id: string): Credential {
    if (!kIdPattern.test(id)) throw ProxyErrors.HANDOFF_UNKNOWN('malformed id');
    const c = this.records.get(id);
    if (!c || c.kind !== kind) throw ProxyErrors.HANDOFF_UNKNOWN();
    if (c.used) throw ProxyErrors.HANDOFF_USED();
    if (c.grantTx?.sealed) throw ProxyErrors.HANDOFF_USED('the pool grant was finished');
    if (Date.now() > c.expiresAt) throw ProxyErrors.HANDOFF_EXPIRED();
    if (kind === 'handoff') c.used = true;
    return c;
  }

  /** The deferred credential `id` of `kind`, checked for prepare or finish; throws the coded error a caller gets. */
  private deferred(kind: Credential['kind'], id: unknown): Credential {
    if (typeof id !== 'string') throw ProxyErrors.CONTROL_BAD_REQUEST('id must be a string');
    if (!kIdPattern.test(id)) throw ProxyErrors.HANDOFF_UNKNOWN('malformed id');
    const c = this.records.get(id);
    if (!c || c.kind !== kind) throw ProxyErrors.HANDOFF_UNKNOWN();
    if (!c.deferCommit) throw ProxyErrors.HANDOFF_NOT_DEFERRED(kind === 'grant' ? 'pool grant was not prepared with deferCommit' : undefined);
    if (c.timedOut) throw ProxyErrors.HANDOFF_EXPIRED(kind === 'grant' ? 'not finished before the pool grant expired: rolled back' : `not finished within ${c.finishTimeoutMs} ms after the worker left: rolled back`);
    if (c.finished) throw ProxyErrors.HANDOFF_USED(`${kind === 'grant' ? 'pool grant' : 'hand-off'} already finished`);
    return c;
  }

  /**
   * prepareHandoff/preparePoolGrant's counterpart at the commit point: the worker's connections are
   * closed and the held work is checked (see HoldLike/GrantLike.prepare). Resolves when it can commit.
   */
  prepareCommit(kind: Credential['kind'], req: { id: string }): Promise<void> {
    const c = this.deferred(kind, (req as { id?: unknown } | undefined)?.id);
    if (kind === 'grant') return c.grantTx ? c.grantTx.prepare() : Promise.resolve();
    if (c.refused) return Promise.reject(ProxyErrors.HANDOFF_COMMIT_FAILED(`the worker's connection was refused: ${c.refused}`));
    if (c.hold) return c.hold.prepare();
    // Never claimed: nothing to commit, and a late (or queued) worker connection must not add any.
    c.used = true;
    c.sealed = true;
    return Promise.resolve();
  }

  /** finishPoolGrant: commit or roll back the deferred grant's transaction. */
  finishGrant(req: FinishRequest): Promise<FinishResult> {
    const r = (req ?? {}) as unknown as Record<string, unknown>;
    const outcome = r.outcome;
    if (outcome !== 'commit' && outcome !== 'rollback') throw ProxyErrors.CONTROL_BAD_REQUEST("outcome must be 'commit' or 'rollback'");
    const c = this.deferred('grant', r.id);
    c.finished = true;
    if (!c.grantTx) return Promise.resolve({ id: c.id, outcome, result: 'unused' });
    return c.grantTx.finish(outcome);
  }

  /** finishHandoff: the deferred hand-off `id`, checked; throws the coded error a caller gets. */
  finish(req: FinishRequest): Promise<FinishResult> {
    const r = (req ?? {}) as unknown as Record<string, unknown>;
    if (typeof r.id !== 'string') throw ProxyErrors.CONTROL_BAD_REQUEST('id must be a string');
    const outcome = r.outcome;
    if (outcome !== 'commit' && outcome !== 'rollback') throw ProxyErrors.CONTROL_BAD_REQUEST("outcome must be 'commit' or 'rollback'");
    const c = this.deferred('handoff', r.id);
    if (!c.hold && !c.used && Date.now() > c.expiresAt) throw ProxyErrors.HANDOFF_EXPIRED();
    c.finished = true;
    c.used = true; // an unclaimed id can no longer be claimed
    if (!c.hold) return Promise.resolve({ id: c.id, outcome, result: 'unused' });
    return c.hold.finish(outcome);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.records.clear();
  }

  private add(kind: Credential['kind'], ttlMs: number | undefined, capability: string | undefined, shadow: boolean | undefined, processId: number, secretKey: number): Credential {
    if (ttlMs !== undefined && !inRange(ttlMs, 1, kMaxTtlMs)) throw ProxyErrors.CONTROL_BAD_REQUEST(`ttlMs must be an integer from 1 to ${kMaxTtlMs}`);
    if (capability !== undefined && (typeof capability !== 'string' || capability === '' || capability.length > kMaxCapability)) {
      throw ProxyErrors.CONTROL_BAD_REQUEST(`capability must be a non-empty string of at most ${kMaxCapability} characters`);
    }
    if (shadow !== undefined && typeof shadow !== 'boolean') throw ProxyErrors.CONTROL_BAD_REQUEST('shadow must be a boolean');
    const id = randomBytes(16).toString('hex');
    const c: Credential = {
      kind,
      id,
      processId,
      secretKey,
      verifier: capability ? makeVerifier(capability, kCapabilityIterations) : null,
      shadow: shadow === true,
      expiresAt: Date.now() + (ttlMs ?? this.defaultTtlMs),
      ttlMs: ttlMs ?? this.defaultTtlMs,
      used: false,
      deferCommit: false,
      finishTimeoutMs: 0,
      hold: null,
      grantTx: null,
      refused: null,
      sealed: false,
      finished: false,
      timedOut: false,
    };
    this.records.set(id, c);
    this.prepared++;
    return c;
  }

  /** Keeps expired and used records one more minute so late attempts get a precise error. */
  private sweep(): void {
    const now = Date.now();
    // A deferred hand-off waiting for its finish stays (its hold times out on its own).
    // So does a grant whose transaction is still open (prepared, waiting for its finish).
    for (const [id, c] of this.records) if (now > c.expiresAt + 60_000 && !(c.hold && !c.finished && !c.timedOut) && !(c.grantTx && !c.grantTx.closed)) this.records.delete(id);
  }
}
