/**
 * Deferred commit of a pool grant. A worker's pg.Pool may open several connections under one grant;
 * all of them are served by ONE backend held in ONE transaction (`BEGIN; SAVEPOINT beehive_auto`)
 * until the agent finishes the grant at the invocation's commit point: 'commit' runs COMMIT,
 * 'rollback' (or the grant's expiry) runs ROLLBACK. The connections take turns on that backend at
 * transaction boundaries, as transaction pooling with a pool of one: a statement outside a
 * transaction, or a whole BEGIN … COMMIT, runs on it while the grant's other connections wait.
 *
 * Why one backend and not one per connection: a worker's queries must see what its earlier queries
 * wrote, whichever pool connection ran them (as they would after autocommit), and the grant commits
 * with a single COMMIT: atomic without two-phase commit. The worker's transaction control becomes
 * savepoints (session/defer.ts); it sees the tags and statuses it expects.
 *
 * Limits: a connection inside its own transaction keeps the backend, so a worker that waits on a
 * second pool connection while holding a transaction open on the first waits until
 * `acquireTimeoutMs` (the waiting connection then gets SQLSTATE 53300 and the grant is marked
 * failed: `prepare` refuses it, so the invocation runs again locally). Session state (SET,
 * temporary tables, …) pins its connection to the backend until it disconnects; connections of the
 * same grant after it share that state (they share one server session); it is reset with
 * DISCARD ALL when the grant finishes.
 */
import type { Backend, BackendOwner } from '../upstream/backend';
import type { ProxyContext } from '../context';
import type { Credential, FinishResult, GrantLike } from '../handoff';
import type { ClientSession } from './client-session';
import { BackendCode, TxStatus } from '../wire/codes';
import type { ReaderHandler } from '../wire/reader';
import * as be from '../wire/backend-messages';
import * as fe from '../wire/frontend-messages';
import { ProxyErrors } from '../errors';
import { debug } from '../debug';
import { DeferState } from './defer';
import { quiesce } from './cleanup';

type Outcome = 'commit' | 'rollback';
type Callback = (err: Error | null, b: Backend | null) => void;

interface Waiter {
  s: ClientSession;
  cb: Callback;
  timer: NodeJS.Timeout | null;
}

export class GrantTx implements BackendOwner, GrantLike {
  /** The grant's backend, once a connection first needed it (null again after the finish). */
  private backend: Backend | null = null;
  /** Who uses the backend now: a member connection, or null (the grant itself holds it). */
  private user: ClientSession | null = null;
  private acquiring = false;
  /** The grant's own query in flight (BEGIN, COMMIT, ROLLBACK, DISCARD ALL). */
  private running: { done: (err: string | null) => void; error: string | null } | null = null;
  private readonly waiting: Waiter[] = [];
  private readonly members = new Set<ClientSession>();
  /** Shared by the connections in turn: the worker's transaction control as savepoints. */
  readonly defer = new DeferState(TxStatus.Idle);
  /** The backend closed under the grant: nothing of it can commit. */
  private lost = false;
  /** A connection left session state on the backend: DISCARD ALL at the end. */
  private sessionState = false;
  /** Why the grant's work is not what the worker asked for (a member refused), or null. */
  failed: string | null = null;
  /** finish (or the expiry) was decided. */
  closed = false;
  /** prepare or finish began: no new connection may join. */
  sealed = false;
  private preparing: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private finishing: { outcome: Outcome; resolve: (r: FinishResult) => void; reject: (e: Error) => void } | null = null;
  private expiry: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly cred: Credential,
  ) {
    this.armExpiry(Math.max(0, cred.expiresAt - Date.now()));
  }

  /** A grant never finished is rolled back when it expires (the agent's invocation is long over). */
  private armExpiry(ms: number): void {
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = setTimeout(() => {
      if (this.closed) return;
      debug('pool grant %s not finished before it expired: rolled back', this.cred.id);
      this.cred.timedOut = true;
      this.ctx.stats.handoffsFinishTimeout++;
      this.finish('rollback').catch(() => {});
    }, ms);
    this.expiry.unref();
  }

  /** A connection authenticated with the grant. */
  join(s: ClientSession): void {
    this.members.add(s);
  }

  /** The backend at once when it is free, else null (the caller stashes and calls `acquire`). */
  takeFree(s: ClientSession): Backend | null {
    if (!this.backend || this.user || this.running || this.waiting.length > 0 || this.sealed || this.lost) return null;
    return this.handTo(s);
  }

  /** Waits for the grant's backend (opening it, and its transaction, on first use). */
  acquire(s: ClientSession, cb: Callback): void {
    if (this.sealed) return cb(ProxyErrors.HANDOFF_FINISHED('the pool grant was finished'), null);
    if (this.lost) return cb(ProxyErrors.UPSTREAM_LOST('the pool grant lost its server connection'), null);
    const w: Waiter = {
      s,
      cb,
      timer: setTimeout(() => {
        const i = this.waiting.indexOf(w);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        this.failed = `a connection waited ${this.ctx.options.acquireTimeoutMs} ms for the grant's session`;
        this.ctx.stats.error('grant_wait_timeout');
        cb(ProxyErrors.POOL_TIMEOUT(`${this.failed} (another connection of the pool grant holds a transaction open)`), null);
      }, this.ctx.options.acquireTimeoutMs),
    };
    w.timer!.unref();
    this.waiting.push(w);
    if (!this.backend && !this.acquiring) this.open();
    else this.serve();
  }

  /**
   * A member is quiet outside its own transaction: the backend goes back to the grant (and to the
   * next waiting connection). Returns false when the member keeps it (session state pins it).
   */
  yieldFrom(s: ClientSession): boolean {
    if (s.backend !== this.backend || this.defer.depth > 0) return false;
    if (s.pinned) {
      this.sessionState = true;
      return false;
    }
    this.takeBack(s);
    return true;
  }

  /** A member connection closed (Terminate, vanished, or closed by finish). */
  leave(s: ClientSession): void {
    this.members.delete(s);
    const i = this.waiting.findIndex((w) => w.s === s);
    if (i >= 0) clearTimeout(this.waiting.splice(i, 1)[0].timer ?? undefined);
    if (!this.backend || s.backend !== this.backend) return this.maybeApply();
    if (s.pinned) this.sessionState = true;
    quiesce(s);
    s.whenQuiet(() => {
      // A transaction the worker began and left open is rolled back, as PostgreSQL does at disconnect.
      const sql = this.defer.endSql();
      if (!sql) return this.takeBack(s);
      s.internal(sql, (err) => {
        if (err) debug('pool grant %s: ending a left transaction failed: %s', this.cred.id, err);
        this.takeBack(s);
      });
      s.flush();
    });
  }

  /** The backend a member owned closed. */
  backendLost(): void {
    this.lost = true;
    this.backend = null;
    this.user = null;
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer ?? undefined);
      w.cb(ProxyErrors.UPSTREAM_LOST('the pool grant lost its server connection'), null);
    }
    this.maybeApply();
  }

  /**
   * The invocation's work is done: its connections are closed (after their in-flight work) and the
   * grant checks that its work can commit — no connection was refused, the session is alive, and
   * deferred constraints hold (`SET CONSTRAINTS ALL IMMEDIATE` checks them now instead of at
   * COMMIT) — before the agent applies the invocation's other effects. A refusal leaves the work
   * to the finish('rollback') that follows.
   */
  prepare(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(ProxyErrors.HANDOFF_USED('the pool grant was finished'));
      this.sealed = true;
      this.preparing = { resolve, reject };
      this.closeMembers();
      this.maybeApply();
    });
  }

  /** Ends the grant: connections closed (after their in-flight work), then COMMIT or ROLLBACK. */
  finish(outcome: Outcome): Promise<FinishResult> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve({ id: this.cred.id, outcome, result: 'unused' });
      this.closed = true;
      if (this.expiry) clearTimeout(this.expiry);
      // Work being rolled back need not finish first: cancel what a member still runs.
      if (outcome === 'rollback' && this.user && !this.user.quiet) this.backend?.cancel();
      this.sealed = true;
      this.finishing = { outcome, resolve, reject };
      if (outcome === 'commit') this.ctx.stats.handoffsFinishCommit++;
      else this.ctx.stats.handoffsFinishRollback++;
      const p = this.preparing;
      this.preparing = null;
      p?.reject(ProxyErrors.HANDOFF_FINISHED('the pool grant was finished while being prepared'));
      this.closeMembers();
      this.maybeApply();
    });
  }

  // ---- BackendOwner: while no member uses the backend ----

  private readonly handler: ReaderHandler = {
    message: (code, buf, start, end) => {
      const r = this.running;
      if (code === BackendCode.ErrorResponse) {
        const m = be.decodeFields(buf, start, end).M ?? 'error';
        if (r) r.error ??= m;
        else debug('pool grant %s: server error while idle: %s', this.cred.id, m);
      } else if (code === BackendCode.ReadyForQuery) {
        if (this.backend) this.backend.txStatus = buf[start + 5];
        this.running = null;
        r?.done(r.error);
      }
    },
    fragment: () => {},
  };

  onBackendData(b: Backend, chunk: Buffer, n: number): void {
    try {
      b.reader.feed(chunk, this.handler, n);
    } catch (err) {
      debug('pool grant %s: bad data from the server: %s', this.cred.id, (err as Error).message);
      this.ctx.pool.discard(b);
    }
  }

  onBackendClose(): void {
    this.running = null;
    this.backendLost();
  }

  // ---- internals ----

  private open(): void {
    this.acquiring = true;
    this.ctx.pool.acquire((err, b) => {
      this.acquiring = false;
      if (err || !b) {
        this.failed = err?.message ?? 'no server connection';
        for (const w of this.waiting.splice(0)) {
          clearTimeout(w.timer ?? undefined);
          w.cb(err ?? ProxyErrors.UPSTREAM_CONNECT(), null);
        }
        return this.maybeApply();
      }
      if (this.closed) {
        this.ctx.pool.release(b);
        return this.maybeApply();
      }
      this.backend = b;
      b.owner = this;
      this.run(this.defer.beginSql(), (e) => {
        if (e) {
          this.failed = `BEGIN failed: ${e}`;
          this.ctx.pool.discard(b);
          return;
        }
        this.serve();
      });
    });
  }

  /** Gives the free backend to the next waiting connection. */
  private serve(): void {
    if (!this.backend || this.user || this.running) return;
    const w = this.waiting.shift();
    if (!w) return this.maybeApply();
    clearTimeout(w.timer ?? undefined);
    w.cb(null, this.handTo(w.s));
  }

  private handTo(s: ClientSession): Backend {
    const b = this.backend!;
    this.user = s;
    b.owner = null; // the member's attach() makes it the owner
    return b;
  }

  private takeBack(s: ClientSession): void {
    const b = s.detach();
    s.shadow = null;
    if (!b || b !== this.backend) return;
    this.user = null;
    b.owner = this;
    if (b.closed) return this.backendLost();
    this.serve();
  }

  private closeMembers(): void {
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer ?? undefined);
      w.cb(ProxyErrors.HANDOFF_FINISHED('the pool grant was finished'), null);
    }
    for (const s of [...this.members]) s.fatal(ProxyErrors.HANDOFF_FINISHED('the pool grant was finished'));
  }

  /** Once prepare or finish was called and no connection is left on the backend: the check, or the decision. */
  private maybeApply(): void {
    if (this.members.size > 0 || this.user || this.running || this.acquiring) return;
    const p = this.preparing;
    if (p) {
      this.preparing = null;
      if (this.failed) return p.reject(ProxyErrors.HANDOFF_COMMIT_FAILED(this.failed));
      if (this.lost) return p.reject(ProxyErrors.HANDOFF_COMMIT_FAILED('the pool grant lost its server connection'));
      if (!this.backend) return p.resolve();
      return this.run('SET CONSTRAINTS ALL IMMEDIATE', (err) => {
        if (err) this.failed = err;
        if (err) p.reject(ProxyErrors.HANDOFF_COMMIT_FAILED(err));
        else {
          // Prepared: the agent's finish follows at once; a whole lifetime more before the rollback
          // keeps an expiry from racing a commit that prepare has just promised.
          this.armExpiry(this.cred.ttlMs);
          p.resolve();
        }
        this.maybeApply();
      });
    }
    const f = this.finishing;
    if (!f) return;
    this.finishing = null;
    const id = this.cred.id;
    const b = this.backend;
    if (!b) {
      if (this.lost && f.outcome === 'commit') return f.reject(ProxyErrors.HANDOFF_COMMIT_FAILED('the pool grant lost its server connection: nothing committed'));
      return f.resolve({ id, outcome: f.outcome, result: this.lost ? 'rolled-back' : 'unused' });
    }
    const commit = f.outcome === 'commit' && !this.failed && b.txStatus === TxStatus.InTransaction;
    if (f.outcome === 'commit' && !commit) this.ctx.stats.error('grant_commit_refused');
    debug('pool grant %s finished: %s → %s', id, f.outcome, commit ? 'COMMIT' : 'ROLLBACK');
    this.run(commit ? 'COMMIT' : 'ROLLBACK', (err) => {
      const reset = this.sessionState;
      const give = (e: string | null) => {
        this.backend = null;
        if (e || b.txStatus !== TxStatus.Idle) this.ctx.pool.discard(b);
        else this.ctx.pool.release(b);
      };
      if (reset && !err) {
        this.run('DISCARD ALL', (e) => {
          b.prepared.clear();
          give(e);
        });
      } else give(err);
      if (err) return f.reject(ProxyErrors.HANDOFF_COMMIT_FAILED(`${commit ? 'COMMIT' : 'ROLLBACK'}: ${err}`));
      if (f.outcome === 'commit' && !commit) return f.reject(ProxyErrors.HANDOFF_COMMIT_FAILED(this.failed ?? 'the grant\'s transaction failed: rolled back'));
      f.resolve({ id, outcome: f.outcome, result: commit ? 'committed' : 'rolled-back' });
    });
  }

  /** One query of the grant's own on the backend it holds. */
  private run(sql: string, done: (err: string | null) => void): void {
    const b = this.backend!;
    this.running = { done, error: null };
    b.write(fe.encodeQuery(sql));
  }
}
