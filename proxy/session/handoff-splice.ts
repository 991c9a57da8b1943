/**
 * Hand-off: a worker connection that presents a prepared id continues the original client's backend
 * session — an open transaction included — while the original is held (its messages wait). When the
 * worker leaves, the backend goes back to the original. If the worker vanishes without Terminate,
 * what it did inside the original's transaction is rolled back to a savepoint taken at the splice,
 * so the original can run the request again locally.
 *
 * With deferCommit (session/defer.ts) the worker's transaction control becomes savepoints and, once
 * the worker has left (normally or not), the backend stays held by a Hold until finishHandoff (or
 * the finish timeout, which rolls back) decides; only then does the original get it back.
 */
import { Phase, type ClientSession } from './client-session';
import { ProxyErrors } from '../errors';
import { TxStatus } from '../wire/codes';
import type { Credential, FinishResult, HoldLike } from '../handoff';
import { DeferState } from './defer';
import { beginShadow } from './shadow';
import { cleanBackend, quiesce } from './cleanup';
import { debug } from '../debug';

type Outcome = 'commit' | 'rollback';

/** A worker connection continuing another client's session. */
export interface HandoffLink {
  from: ClientSession;
  /** A savepoint was taken at the splice (the original was in a transaction). */
  savepoint: boolean;
  /** The transaction was ended during the hand-off, so the savepoint is gone. */
  sawIdle: boolean;
  /** deferCommit: the decision that the session waits for after the worker leaves. */
  hold: Hold | null;
  /** The backend closed during the hand-off. */
  lost: boolean;
}

/** The decision pending on a deferred hand-off, and the worker session that keeps its backend meanwhile. */
export class Hold implements HoldLike {
  /** The worker left; its session (closed) still owns the backend. */
  parked = false;
  /** A decision is being applied (or there is nothing left to decide). */
  done = false;
  private settled = false;
  private pending: { outcome: Outcome; resolve: (r: FinishResult) => void; reject: (e: Error) => void } | null = null;
  private preparing: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Why the held session cannot commit (its server connection was lost), once settled. */
  private settledErr: Error | null = null;

  constructor(
    readonly cred: Credential,
    readonly w: ClientSession,
  ) {}

  finish(outcome: Outcome): Promise<FinishResult> {
    return new Promise((resolve, reject) => {
      if (this.done) return resolve({ id: this.cred.id, outcome, result: 'unused' });
      this.pending = { outcome, resolve, reject };
      if (this.parked) return this.apply(outcome);
      // Work being rolled back need not finish first: cancel what the worker still runs.
      if (outcome === 'rollback' && !this.w.quiet) this.w.backend?.cancel();
      // The invocation is over: a worker still connected is closed (once its in-flight work ends).
      this.w.fatal(ProxyErrors.HANDOFF_FINISHED());
    });
  }

  /**
   * At the invocation's commit point, before the agent applies its other effects: the worker's
   * connection is closed (after its in-flight work) and the held work is checked — the session is
   * alive and, when finish('commit') would COMMIT, deferred constraints hold (`SET CONSTRAINTS ALL
   * IMMEDIATE` checks them now rather than at COMMIT). A refusal is left to the finish('rollback')
   * that follows.
   */
  prepare(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.done) return this.settledErr ? reject(ProxyErrors.HANDOFF_COMMIT_FAILED(this.settledErr.message)) : resolve();
      this.preparing = { resolve, reject };
      if (this.parked) this.check();
      else this.w.fatal(ProxyErrors.HANDOFF_FINISHED());
    });
  }

  private check(): void {
    const p = this.preparing!;
    this.preparing = null;
    const w = this.w;
    const b = w.backend;
    const defer = w.shadow instanceof DeferState ? w.shadow : null;
    if (!b) return p.reject(ProxyErrors.HANDOFF_COMMIT_FAILED('the held session lost its server connection'));
    // Only where finish('commit') would COMMIT: in the original's open transaction the check would change its constraint mode.
    if (!defer || b.txStatus !== TxStatus.InTransaction || (defer.nested && defer.outcome !== 'commit')) return p.resolve();
    w.internal('SET CONSTRAINTS ALL IMMEDIATE', (err) => (err ? p.reject(ProxyErrors.HANDOFF_COMMIT_FAILED(err)) : p.resolve()));
    w.flush();
  }

  /** The worker has left and its cleanup ran: apply a decision already made, or wait for one. */
  park(): void {
    this.parked = true;
    if (this.preparing) this.check();
    if (this.pending) return this.apply(this.pending.outcome);
    this.timer = setTimeout(() => {
      debug('hand-off %s not finished within %d ms: rolled back', this.cred.id, this.cred.finishTimeoutMs);
      this.cred.timedOut = true;
      this.w.ctx.stats.handoffsFinishTimeout++;
      this.apply('rollback');
    }, this.cred.finishTimeoutMs);
    this.timer.unref();
  }

  /** No backend to decide on (the worker never got one, or it was lost). */
  settle(err: Error | null): void {
    if (this.settled) return;
    this.settled = this.done = true;
    this.settledErr = err;
    if (this.timer) clearTimeout(this.timer);
    const pr = this.preparing;
    this.preparing = null;
    if (pr) (err ? pr.reject(ProxyErrors.HANDOFF_COMMIT_FAILED(err.message)) : pr.resolve());
    const p = this.pending;
    this.pending = null;
    if (p) (err ? p.reject(err) : p.resolve({ id: this.cred.id, outcome: p.outcome, result: 'unused' }));
  }

  private apply(outcome: Outcome): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    const w = this.w;
    const b = w.backend;
    const defer = w.shadow instanceof DeferState ? w.shadow : null;
    const step = defer && b ? defer.finishSql(outcome, b.txStatus) : { sql: '', result: outcome === 'commit' ? 'open' : 'rolled-back' } as const;
    if (defer?.inexact && outcome === 'commit') w.ctx.stats.error('handoff_defer_inexact');
    if (outcome === 'commit') w.ctx.stats.handoffsFinishCommit++;
    else w.ctx.stats.handoffsFinishRollback++;
    debug('hand-off %s finished: %s → %s', this.cred.id, outcome, step.result);
    const end = (err: string | null) => {
      if (this.settled) return;
      this.settled = true;
      const p = this.pending;
      this.pending = null;
      w.shadow = null;
      if (p) {
        if (err) p.reject(ProxyErrors.HANDOFF_COMMIT_FAILED(`${step.sql}: ${err}`));
        else p.resolve({ id: this.cred.id, outcome, result: step.result });
      }
      giveBack(w, w.handoff!.from);
    };
    if (!b || !step.sql) return end(null);
    w.internal(step.sql, (err) => end(err));
    w.flush();
  }
}

/**
 * A worker's connection claims the session of a hand-off. `finishStartup` is the start-up's last
 * step (startup.ts), passed in so that this file and the start-up do not require each other.
 */
export function claimHandoff(w: ClientSession, cred: Credential, shadow: boolean, finishStartup: (s: ClientSession) => void): void {
  const ctx = w.ctx;
  if (w.phase === Phase.Closed) return; // the worker left while its claim waited
  // The agent already passed the invocation's commit point: this connection may not add work.
  if (cred.sealed || cred.finished) return w.fatal(ProxyErrors.HANDOFF_FINISHED('the invocation of this hand-off is over'));
  const o = ctx.sessions.find(cred.processId, cred.secretKey);
  if (!o || o === w || o.phase !== Phase.Ready || o.handoff) {
    ctx.stats.handoffsRejected++;
    cred.refused = 'the original connection is gone';
    return w.fatal(ProxyErrors.HANDOFF_TARGET_GONE());
  }
  if (o.heldBy) {
    // Another invocation has the session (two invocations sharing one client): this one waits its
    // turn and then continues the session as the first one left it (committed or rolled back).
    debug('client %d: hand-off queued behind the one in progress', o.processId);
    o.claims.push(() => claimHandoff(w, cred, shadow, finishStartup));
    const queued = setTimeout(() => {
      if (w.phase !== Phase.Attaching || w.handoff) return;
      cred.refused = `waited ${ctx.options.acquireTimeoutMs} ms for an earlier hand-off of the same connection`;
      w.fatal(ProxyErrors.POOL_TIMEOUT(cred.refused));
    }, ctx.options.acquireTimeoutMs);
    queued.unref();
    return;
  }
  ctx.stats.handoffsClaimed++;
  o.heldBy = w;
  const hold = cred.deferCommit ? new Hold(cred, w) : null;
  cred.hold = hold;
  w.handoff = { from: o, savepoint: false, sawIdle: false, hold, lost: false };
  w.pinned = 'hand-off';
  debug('client %d continues the session of client %d%s', w.processId, o.processId, hold ? ' (deferred commit)' : '');
  // The original may never come to rest (a client mid-pipeline): do not hold either side forever.
  const timer = setTimeout(() => {
    if (w.phase !== Phase.Attaching) return;
    o.cancelWait();
    cred.refused = `the original connection stayed busy for ${ctx.options.acquireTimeoutMs} ms`;
    w.fatal(ProxyErrors.POOL_TIMEOUT(cred.refused));
  }, ctx.options.acquireTimeoutMs);
  timer.unref();
  const begin = () => {
    if (hold && !shadow && w.backend!.txStatus !== TxStatus.Failed) {
      const state = new DeferState(w.backend!.txStatus);
      w.shadow = state;
      w.handoff!.savepoint = state.nested;
      w.internal(state.beginSql(), (err) => err && debug('client %d deferred begin failed: %s', w.processId, err));
    } else if (w.backend!.txStatus === TxStatus.InTransaction) {
      w.internal('SAVEPOINT beehive_handoff', null);
      w.handoff!.savepoint = true;
    }
    if (shadow) beginShadow(w);
    finishStartup(w);
    w.flush();
  };
  o.whenQuiet(() => {
    clearTimeout(timer);
    if (w.phase === Phase.Closed) return; // endHandoff already gave the original back
    const b = o.detach();
    if (b) {
      w.attach(b);
      begin();
    } else if (shadow || hold || w.mode === 'session') w.acquire(begin);
    else finishStartup(w);
  });
}

/** The worker left: undo what an abnormal end left in the original's transaction, then give the backend back. */
export function endHandoff(w: ClientSession, abnormal: boolean): void {
  const link = w.handoff!;
  const o = link.from;
  const ctx = w.ctx;
  if (abnormal) ctx.stats.handoffsAborted++;
  else ctx.stats.handoffsCompleted++;
  debug('hand-off of client %d ended%s', o.processId, abnormal ? ' abnormally' : '');
  const b = w.backend;
  if (!b) {
    link.hold?.settle(link.lost ? ProxyErrors.UPSTREAM_LOST('the held session lost its server connection') : null);
    return giveBack(w, o);
  }
  quiesce(w);
  w.whenQuiet(() => {
    const steps: string[] = [];
    const defer = w.shadow instanceof DeferState ? w.shadow : null;
    if (w.shadow && !defer) {
      steps.push(w.shadow.endSql());
      w.shadow = null;
    }
    if (link.hold) {
      // Deferred: only the worker's own open transaction goes; the rest waits for finishHandoff.
      const sql = defer?.endSql();
      if (sql) steps.push(sql);
    } else if (link.savepoint && !link.sawIdle) {
      if (abnormal) steps.push('ROLLBACK TO SAVEPOINT beehive_handoff; RELEASE SAVEPOINT beehive_handoff');
      else if (b.txStatus === TxStatus.InTransaction) steps.push('RELEASE SAVEPOINT beehive_handoff');
    } else if (abnormal && b.txStatus !== TxStatus.Idle) steps.push('ROLLBACK');
    const next = (err: string | null) => {
      if (err) debug('hand-off cleanup failed: %s', err);
      const sql = steps.shift();
      if (sql === undefined) return link.hold ? link.hold.park() : giveBack(w, o);
      w.internal(sql, next);
      w.flush();
    };
    next(null);
  });
}

/** The backend of a hand-off closed. A worker still open goes through close() → endHandoff; an ended one is finished here. */
export function handoffBackendLost(w: ClientSession): void {
  const link = w.handoff!;
  link.lost = true;
  if (w.phase !== Phase.Closed) return;
  link.hold?.settle(ProxyErrors.UPSTREAM_LOST('the held session lost its server connection'));
  giveBack(w, link.from);
}

function giveBack(w: ClientSession, o: ClientSession): void {
  const link = w.handoff;
  const b = w.detach();
  w.handoff = null;
  o.heldBy = null;
  if (o.phase === Phase.Closed) {
    // The original left meanwhile: clean the backend on its behalf.
    if (b) {
      o.attach(b);
      cleanBackend(o, false, true);
    }
    o.nextClaim(); // refused: the original is gone
    return;
  }
  // Its session (and any transaction in it) died with the server connection: say so.
  if (!b && link?.lost) return o.fatal(ProxyErrors.UPSTREAM_LOST('the server connection was lost during a hand-off'), '57P01');
  if (b) o.attach(b);
  o.drainStash();
  o.settle();
  o.nextClaim();
}
