/**
 * Deferred commit of a hand-off. The worker's transaction control is turned into savepoints (as in
 * a shadow session), so when the worker leaves, the backend is still inside one transaction holding
 * everything the worker did. The agent then finishes the hand-off: 'commit' reproduces what the
 * worker asked for (COMMIT if it committed, ROLLBACK if it rolled back, the original's transaction
 * left open if the worker left it open), 'rollback' undoes the worker's part only, back to the
 * savepoint taken at the splice. The worker sees the tags and statuses it expects ('COMMIT', idle).
 *
 * Real layout on the backend:
 *   original idle at the splice:            BEGIN; SAVEPOINT beehive_auto   (worker starts idle)
 *   original in a transaction at the splice: SAVEPOINT beehive_handoff; SAVEPOINT beehive_auto
 *                                            (worker starts inside the original's transaction)
 */
import { ShadowState } from './shadow';
import { txControl } from '../sql/statements';
import { TxStatus } from '../wire/codes';

export type WorkerOutcome = 'commit' | 'rollback' | null;

export class DeferState extends ShadowState {
  override readonly kind = 'defer';
  /** Nested case only: how the worker ended the original's transaction (null: left open). */
  outcome: WorkerOutcome = null;
  /** The worker ended the original's transaction with ROLLBACK and then ran more statements. */
  inexact = false;
  /** Whether the worker's current transaction (depth 1) is its own (it sent BEGIN). */
  private own = false;
  /** Command tags the client should see for the statements of the last rewritten query. */
  private tags: Array<string | null> | null = null;

  constructor(status: number) {
    super(status);
    if (this.nested) this.depth = 1;
  }

  override beginSql(): string {
    return this.nested ? 'SAVEPOINT beehive_handoff; SAVEPOINT beehive_auto' : 'BEGIN; SAVEPOINT beehive_auto';
  }

  /** Run when the worker leaves: a transaction the worker began and left open is rolled back, as PostgreSQL does at disconnect. */
  override endSql(): string {
    if (this.depth > 0 && this.own) {
      this.depth = 0;
      this.own = false;
      return 'ROLLBACK TO SAVEPOINT beehive_app; RELEASE SAVEPOINT beehive_app';
    }
    return '';
  }

  /** SQL that applies the agent's decision on the held transaction ('' when there is nothing to do). */
  finishSql(decision: 'commit' | 'rollback', status: number): { sql: string; result: 'committed' | 'rolled-back' | 'open' } {
    if (decision === 'rollback') {
      return this.nested
        ? { sql: status === TxStatus.Idle ? '' : 'ROLLBACK TO SAVEPOINT beehive_handoff; RELEASE SAVEPOINT beehive_handoff', result: 'rolled-back' }
        : { sql: status === TxStatus.Idle ? '' : 'ROLLBACK', result: 'rolled-back' };
    }
    if (status === TxStatus.Idle) return { sql: '', result: 'committed' }; // should not happen: nothing left to commit
    if (!this.nested || this.outcome === 'commit') return status === TxStatus.Failed ? { sql: 'ROLLBACK', result: 'rolled-back' } : { sql: 'COMMIT', result: 'committed' };
    if (this.outcome === 'rollback') return { sql: 'ROLLBACK', result: 'rolled-back' };
    // The worker left the original's transaction open: the original continues it, worker's work included.
    return { sql: status === TxStatus.Failed ? '' : 'RELEASE SAVEPOINT beehive_handoff', result: 'open' };
  }

  override rewrite(sql: string, status: number): string | null {
    this.tags = null;
    if (this.depth === 0 && this.outcome === 'rollback') this.inexact = true;
    return super.rewrite(sql, status);
  }

  /** Tags for the query just rewritten (one per statement, null where the server's tag stands). */
  takeTags(): Array<string | null> | null {
    const t = this.tags;
    this.tags = null;
    return t;
  }

  /** Called for every statement of a rewritten query, in order. */
  protected override rewriteOne(stmt: string, status: number): string | null {
    const kind = txControl(stmt);
    let repl: string | null = null;
    let tag: string | null = null;
    switch (kind) {
      case 'begin':
        if (this.depth > 0) break; // PostgreSQL only warns
        this.depth = 1;
        this.own = true;
        repl = 'SAVEPOINT beehive_app';
        tag = 'BEGIN';
        break;
      case 'commit':
      case 'rollback': {
        const failed = status === TxStatus.Failed;
        const commit = kind === 'commit' && !failed;
        tag = kind === 'commit' && !failed ? 'COMMIT' : 'ROLLBACK';
        if (this.depth === 0) {
          repl = 'SAVEPOINT beehive_noop'; // PostgreSQL warns "no transaction in progress"
          tag = kind === 'commit' ? 'COMMIT' : 'ROLLBACK';
        } else if (this.own) {
          repl = commit ? 'RELEASE SAVEPOINT beehive_app' : 'ROLLBACK TO SAVEPOINT beehive_app; RELEASE SAVEPOINT beehive_app';
        } else {
          // The original's transaction: keep its work in the held transaction, remember the verdict.
          this.outcome = commit ? 'commit' : 'rollback';
          repl = commit ? 'SAVEPOINT beehive_noop' : 'ROLLBACK TO SAVEPOINT beehive_auto';
        }
        this.depth = 0;
        this.own = false;
        break;
      }
    }
    (this.tags ??= []).push(tag);
    // A two-statement replacement yields two CommandCompletes: the second one is hidden.
    if (repl && repl.includes(';')) this.tags.push(kDrop);
    return repl;
  }
}

/** Marks a CommandComplete the client must not see. */
export const kDrop = '\0drop';
