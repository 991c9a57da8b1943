/**
 * Hand-off: a worker connection that presents a prepared id continues the original client's backend
 * session — an open transaction included — while the original is held (its messages wait). When the
 * worker leaves, the backend goes back to the original. If the worker vanishes without Terminate,
 * what it did inside the original's transaction is rolled back to a savepoint taken at the splice,
 * so the original can run the request again locally.
 */
import { Phase, type ClientSession } from './client-session';
import { finishStartup } from './startup';
import { ProxyErrors } from '../errors';
import { TxStatus } from '../wire/codes';
import type { Credential } from '../handoff';
import { debug } from '../debug';

export function claimHandoff(w: ClientSession, cred: Credential, shadow: boolean): void {
  const ctx = w.ctx;
  const o = ctx.sessions.find(cred.processId, cred.secretKey);
  if (!o || o === w || o.phase !== Phase.Ready || o.heldBy || o.handoff) {
    ctx.stats.handoffsRejected++;
    return w.fatal(ProxyErrors.HANDOFF_TARGET_GONE());
  }
  ctx.stats.handoffsClaimed++;
  o.heldBy = w;
  w.handoff = { from: o, savepoint: false, sawIdle: false };
  w.pinned = 'hand-off';
  debug('client %d continues the session of client %d', w.processId, o.processId);
  // The original may never come to rest (a client mid-pipeline): do not hold either side forever.
  const timer = setTimeout(() => {
    if (w.phase !== Phase.Attaching) return;
    o.cancelWait();
    w.fatal(ProxyErrors.POOL_TIMEOUT(`the original connection stayed busy for ${ctx.options.acquireTimeoutMs} ms`));
  }, ctx.options.acquireTimeoutMs);
  timer.unref();
  o.whenQuiet(() => {
    clearTimeout(timer);
    if (w.phase === Phase.Closed) return; // endHandoff already gave the original back
    const b = o.detach();
    if (b) {
      w.attach(b);
      if (b.txStatus === TxStatus.InTransaction) {
        w.internal('SAVEPOINT beehive_handoff', null);
        w.handoff!.savepoint = true;
      }
      if (shadow) w.shadowBegin();
      finishStartup(w);
      w.flush();
    } else if (shadow || w.mode === 'session') {
      w.acquire(() => {
        if (shadow) w.shadowBegin();
        finishStartup(w);
      });
    } else finishStartup(w);
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
  if (!b) return giveBack(w, o);
  w.quiesce();
  w.whenQuiet(() => {
    const steps: string[] = [];
    if (w.shadow) {
      steps.push(w.shadow.endSql());
      w.shadow = null;
    }
    if (link.savepoint && !link.sawIdle) {
      if (abnormal) steps.push('ROLLBACK TO SAVEPOINT beehive_handoff; RELEASE SAVEPOINT beehive_handoff');
      else if (b.txStatus === TxStatus.InTransaction) steps.push('RELEASE SAVEPOINT beehive_handoff');
    } else if (abnormal && b.txStatus !== TxStatus.Idle) steps.push('ROLLBACK');
    const next = (err: string | null) => {
      if (err) debug('hand-off cleanup failed: %s', err);
      const sql = steps.shift();
      if (sql === undefined) return giveBack(w, o);
      w.internal(sql, next);
      w.flush();
    };
    next(null);
  });
}

function giveBack(w: ClientSession, o: ClientSession): void {
  const b = w.detach();
  w.handoff = null;
  o.heldBy = null;
  if (o.phase === Phase.Closed) {
    // The original left meanwhile: clean the backend on its behalf.
    if (b) {
      o.attach(b);
      o.cleanBackend(false, true);
    }
    return;
  }
  if (b) o.attach(b);
  o.drainStash();
  o.settle();
}
