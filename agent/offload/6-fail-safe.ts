import type { NextFunction, Request, Response } from 'express';
import { debug } from '../debug';
import type { HandlerEntry } from '../registry';
import type { DispatchContext } from './context';
import { runLocal } from './1-local-run';

/**
 * Step 6, fail safe (DESIGN.md §3 step 8): an invocation that failed before its commit point was
 * discarded (its keys released, its database work rolled back by the proxy: 3-invoke.ts), and the
 * request runs here. The client gets exactly one response; the state changes once.
 */

/** Counts a failed offload by its kind, and holds a handler that cannot be offloaded local. */
export function failed(entry: HandlerEntry, err: unknown): void {
  const e = err as { code?: string; message?: string; notOffloadable?: boolean; transient?: boolean };
  if (e?.transient) {
    // Nothing ran on a worker: this request simply runs here.
    debug('agent', `${entry.id}: not offloaded this time (${e.message})`);
    return;
  }
  if (e?.notOffloadable || e?.code === 'BEEHIVE_ERR_WORKER_REFUSED') {
    // Not offloadable as it stands: say why, and run it here from now on. (A worker's refusal
    // came after the handler ran there: that request is re-executed here.)
    if (!e.notOffloadable) entry.reexecuted++;
    entry.reason = String(e.message ?? err);
    entry.refused++;
    debug('agent', `${entry.id} not offloadable: ${entry.reason}`);
    return;
  }
  // Conflicts were counted, with their reason, by 4-commit.ts's retryOnWorker.
  if (e?.code !== 'BEEHIVE_ERR_CHANNEL_CONFLICT') entry.noteFailure(err);
  entry.reexecuted++;
  debug('agent', `${entry.id}: offload failed (${e?.code}: ${e?.message}); running locally`);
}

/**
 * The local re-run of a failed offload. Nobody else holds its promise, so its rejection (or a
 * synchronous throw) goes to next(err) as Express 5 would route it — on Express 4 too, where the
 * app would otherwise die of an unhandled rejection that only the agent's re-run caused.
 */
export function rerunLocal(ctx: DispatchContext, entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): void {
  let ret: unknown;
  try {
    ret = runLocal(ctx, entry, self, req, res, next);
  } catch (err) {
    return safeNext(next, err);
  }
  if (ret && typeof (ret as Promise<unknown>).then === 'function') (ret as Promise<unknown>).then(undefined, (err) => safeNext(next, err));
}

/** next(err) that cannot throw into a promise chain of the agent's. */
export function safeNext(next: NextFunction, err: unknown): void {
  try {
    next(err);
  } catch (e) {
    debug('agent', `next(err) threw: ${(e as Error)?.message ?? e}`);
  }
}
