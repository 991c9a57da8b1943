import { ChannelErrors } from '../../protocol';
import { conflictReason } from '../contention';
import { debug } from '../debug';
import type { HandlerEntry } from '../registry';
import type { DispatchContext, Invoked } from './context';
import type { Opened } from './2-capture';
import { endedInError, type RunEnd } from './6-verify';

/**
 * Step 4, commit (DESIGN.md §3 step 7): the worker's dirty set applies to the real objects all or
 * nothing (agent/channel/invocations.ts checks the read set, 4-apply.ts writes), then the database
 * work of the invocation commits through the proxy. A conflict runs the request again on a worker
 * while retries and time are left.
 */

const now = () => performance.now();
/** The least time left before a conflicting offload is retried on a worker rather than run here. */
const MIN_RETRY_MS = 100;

/**
 * The two ways an open invocation ends, each at most once. Memory first (its keys are released
 * there), then the database: a refused memory commit rolls the database work back, so the local
 * re-run starts from the same state.
 */
export function endings(ctx: DispatchContext, entry: HandlerEntry, inv: Opened): { commit(changes: unknown, reads: unknown): Promise<void>; discard(): Promise<void> } {
  const { record, packer } = inv;
  let ended = false;
  const discard = async () => {
    if (ended) return;
    ended = true;
    ctx.invocations.close(record.id);
    await packer.finish('rollback');
  };
  const commit = async (changes: unknown, reads: unknown) => {
    if (ended) throw ChannelErrors.ENDED(`invocation ${record.id}`);
    ended = true;
    try {
      ctx.invocations.commit(record.id, changes, reads);
    } catch (err) {
      await packer.finish('rollback');
      throw err;
    }
    // Memory has committed: from here on the request must not run again, whatever happens.
    await packer.finish('commit').catch((err: Error) => debug('agent', `${entry.id}: database commit: ${err?.message ?? err}`));
  };
  return { commit, discard };
}

/**
 * Invokes and commits; an outcome ending in an error is discarded instead (6-verify.ts runs it
 * here). A conflicting commit is invoked again while `retryOnWorker` allows; any other failure,
 * or a conflict past the retries, is thrown for the caller's local re-run.
 */
export async function commitOrRetry(ctx: DispatchContext, entry: HandlerEntry, deadline: number, invoke: () => Promise<Invoked>): Promise<{ inv: Invoked; error?: RunEnd }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const inv = await invoke();
      const error = endedInError(inv.outcome);
      if (error) {
        // Not trusted: discarded, and the request runs here.
        await inv.discard();
        entry.reexecuted++;
      } else await inv.commit();
      return { inv, error };
    } catch (err) {
      if (!retryOnWorker(ctx, entry, err, attempt, deadline)) throw err;
    }
  }
}

/**
 * A conflict is counted (with its reason) and, while retries and time are left, the request runs
 * again on a worker rather than here: its objects are captured afresh, and the ones that conflicted
 * are hot by now, so the retry locks them at first touch instead of racing for them again. Nothing
 * of the failed attempt was applied (DESIGN.md: the commit is all or nothing).
 */
function retryOnWorker(ctx: DispatchContext, entry: HandlerEntry, err: unknown, attempt: number, deadline: number): boolean {
  const reason = conflictReason(err);
  if (!reason) return false;
  entry.noteConflict(reason);
  const left = deadline - now();
  // Time for one more run at the handler's usual offloaded latency (or a floor before it has one).
  const needed = Math.max(MIN_RETRY_MS, 2 * (entry.offloadLatency.summary().p50 || 0));
  if (attempt >= ctx.options.conflictRetries || left < needed) return false;
  entry.retried++;
  debug('agent', `${entry.id}: ${reason} conflict (${(err as Error).message}); retrying on a worker (${attempt + 1}/${ctx.options.conflictRetries})`);
  return true;
}
