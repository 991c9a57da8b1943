/** Returning a backend clean when its client leaves (or a hand-off ends on its behalf), and proxy shutdown. */
import type { ClientSession } from './client-session';
import { TxStatus } from '../wire/codes';
import * as fe from '../wire/frontend-messages';
import * as be from '../wire/backend-messages';
import { ProxyErrors } from '../errors';
import { debug } from '../debug';
import { Expect, Flag } from './response-queue';

/**
 * Returns the backend clean: finishes what is in flight (output dropped), rolls back an open
 * transaction, and resets session state with DISCARD ALL when the session could have set any.
 * Anything unexpected closes the backend instead.
 */
export function cleanBackend(s: ClientSession, graceful: boolean, forceReset = false): void {
  const b = s.backend!;
  quiesce(s);
  if (!graceful && b.txStatus !== TxStatus.Idle) s.ctx.stats.error('client_vanished_in_transaction');
  const timer = setTimeout(() => {
    debug('backend %d not clean after %d ms: closed', b.id, s.ctx.options.cleanupTimeoutMs);
    if (s.backend === b) s.ctx.pool.discard(s.detach()!);
  }, s.ctx.options.cleanupTimeoutMs);
  timer.unref();
  const giveBack = (err: string | null) => {
    clearTimeout(timer);
    if (s.backend !== b) return;
    s.detach();
    if (err || b.txStatus !== TxStatus.Idle) s.ctx.pool.discard(b);
    else s.ctx.pool.release(b);
  };
  s.whenQuiet(() => {
    const reset = forceReset || s.mode === 'session' || s.pinned !== null || s.handoff !== null;
    const rollback = b.txStatus !== TxStatus.Idle;
    if (!rollback && !reset) return giveBack(null);
    if (rollback) s.internal('ROLLBACK', reset ? (err) => (err ? giveBack(err) : null) : giveBack);
    if (reset) {
      s.internal('DISCARD ALL', (err) => {
        b.prepared.clear();
        giveBack(err);
      });
    }
  });
  s.flush();
}

/** Stops output to the client and brings the backend to a point where requests end (CopyFail, Sync). */
export function quiesce(s: ClientSession): void {
  s.gone = true;
  s.toClient.discard();
  if (s.copyIn) {
    s.toBackend.pushOwned(fe.copyFailMessage('client went away'));
    s.copyIn = false;
  }
  if (s.unsynced) {
    s.toBackend.pushOwned(fe.syncMessage());
    s.queue.push({ kind: Expect.Sync, flags: Flag.Swallow });
    s.unsynced = false;
  }
}

/** Proxy shutdown: FATAL 57P01 to the client, backends closed without cleaning. */
export function shutdownSession(s: ClientSession): void {
  s.send(be.errorResponse({ severity: 'FATAL', code: '57P01', message: 'terminating connection: the proxy is shutting down' }));
  const b = s.detach();
  if (b) s.ctx.pool.discard(b);
  s.heldBy = null;
  s.handoff?.hold?.settle(ProxyErrors.SHUTDOWN());
  s.handoff = null;
  s.close();
}
