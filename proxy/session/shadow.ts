/**
 * Shadow sessions: everything a client runs happens inside a transaction the proxy always rolls
 * back. The client's own BEGIN/COMMIT/ROLLBACK become savepoints, so its reads see its writes and
 * nothing persists. A failed statement outside the client's own transaction would abort the outer
 * one; a savepoint taken at the start of each batch (`beehive_auto`) restores it, as autocommit would.
 */
import { splitStatements, txControl } from '../sql/statements';
import { TxStatus } from '../wire/codes';
import { debug } from '../debug';
import type { ClientSession } from './client-session';

const kMaybeTx = /begin|start|commit|end|rollback|abort/i;

export class ShadowState {
  /** 'defer': a deferred-commit hand-off (session/defer.ts), which reuses the rewriting. */
  readonly kind: 'shadow' | 'defer' = 'shadow';
  /** Depth of the client's own transaction (0 or 1: nested BEGIN only warns in PostgreSQL). */
  depth = 0;
  /** Whether the outer work began as a savepoint (the client was already in a transaction). */
  readonly nested: boolean;
  /** The outer transaction was lost (it should never be): counted as an error. */
  lost = false;

  constructor(status: number) {
    this.nested = status !== TxStatus.Idle;
  }

  /** SQL that opens the shadow on the backend. */
  beginSql(): string {
    return this.nested ? 'SAVEPOINT beehive_shadow; SAVEPOINT beehive_auto' : 'BEGIN; SAVEPOINT beehive_auto';
  }

  /** SQL that throws away everything the shadow did. */
  endSql(): string {
    return this.nested ? 'ROLLBACK TO SAVEPOINT beehive_shadow; RELEASE SAVEPOINT beehive_shadow' : 'ROLLBACK';
  }

  /** Run before a batch that starts outside the client's own transaction. */
  batchSql(): string | null {
    return this.depth === 0 ? 'RELEASE SAVEPOINT beehive_auto; SAVEPOINT beehive_auto' : null;
  }

  /** Restores the outer transaction after an error outside the client's own transaction. */
  recoverSql(): string {
    return 'ROLLBACK TO SAVEPOINT beehive_auto';
  }

  /** Rewrites transaction control in `sql`; null when nothing changes. */
  rewrite(sql: string, status: number): string | null {
    if (!kMaybeTx.test(sql)) return null;
    const ranges = splitStatements(sql);
    let out = '';
    let last = 0;
    let changed = false;
    for (const [from, b] of ranges) {
      const stmt = sql.slice(from, b);
      const a = from + stmt.length - stmt.trimStart().length;
      const repl = this.rewriteOne(sql.slice(a, b), status);
      if (repl === null) continue;
      out += sql.slice(last, a) + repl;
      last = b;
      changed = true;
    }
    return changed ? out + sql.slice(last) : null;
  }

  protected rewriteOne(stmt: string, status: number): string | null {
    switch (txControl(stmt)) {
      case 'begin':
        if (this.depth > 0) return null; // PostgreSQL only warns
        this.depth = 1;
        return 'SAVEPOINT beehive_app';
      case 'commit':
        if (this.depth === 0) return 'SAVEPOINT beehive_noop';
        this.depth = 0;
        // COMMIT of a failed transaction rolls it back.
        return status === TxStatus.Failed ? 'ROLLBACK TO SAVEPOINT beehive_app' : 'RELEASE SAVEPOINT beehive_app';
      case 'rollback':
        if (this.depth === 0) return 'SAVEPOINT beehive_noop';
        this.depth = 0;
        return 'ROLLBACK TO SAVEPOINT beehive_app';
      default:
        return null;
    }
  }

  /** The transaction status the client should see for the server's `real` one. */
  clientStatus(real: number): number {
    if (real === TxStatus.Idle) {
      this.lost = true;
      return real;
    }
    if (this.depth > 0) return real;
    return TxStatus.Idle;
  }
}

/** Makes everything the session runs from now on happen inside a transaction that is rolled back. */
export function beginShadow(s: ClientSession): void {
  if (s.shadow) return;
  s.ctx.stats.shadowTotal++;
  const start = () => {
    const shadow = (s.shadow = new ShadowState(s.backend!.txStatus));
    s.internal(shadow.beginSql(), (err) => err && debug('client %d shadow begin failed: %s', s.processId, err));
    s.flush();
  };
  if (s.backend) start();
  else s.acquire(start);
}

/** Rolls back what the shadow did and returns the session to normal. */
export function endShadow(s: ClientSession): void {
  const shadow = s.shadow;
  if (!shadow || !s.backend) return;
  s.shadow = null;
  s.internal(shadow.endSql(), () => s.settle());
  s.flush();
}
