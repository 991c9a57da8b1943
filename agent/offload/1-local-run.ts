import type { NextFunction, Request, Response } from 'express';
import type { HandlerEntry } from '../registry';
import type { DispatchContext } from './context';

/**
 * The other branch of step 1: the handler runs here, timed. The agent's whole cost on a local
 * request is this and a few counters.
 */

const now = () => performance.now();

/** Counts a local run and returns the callback that records its duration when it ends. */
export function startLocal(ctx: DispatchContext, entry: HandlerEntry): () => void {
  const t0 = now();
  entry.local++;
  return () => {
    const ms = now() - t0;
    entry.localLatency.add(ms);
    entry.profile.add(ms);
    ctx.onRequestDone(entry, 'local', ms);
  };
}

/**
 * Runs the handler here. One 'close' listener times it (and, given `onClose`, ends its in-flight
 * count).
 */
export function runLocal(ctx: DispatchContext, entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction, onClose?: () => void): unknown {
  const done = startLocal(ctx, entry);
  if (onClose) {
    ctx.inFlight(+1);
    res.once('close', () => {
      done();
      onClose();
    });
  } else if (res.writableFinished) done();
  else res.once('finish', done);
  return entry.fn.call(self, req, res, next);
}

/** A method-style handler (Nest) run here, timed until its promise settles. */
export function callLocal(ctx: DispatchContext, entry: HandlerEntry, self: unknown, args: unknown[]): unknown {
  const done = startLocal(ctx, entry);
  let ret: unknown;
  try {
    ret = entry.fn.apply(self, args);
  } catch (err) {
    done();
    throw err;
  }
  if (ret && typeof (ret as Promise<unknown>).then === 'function') (ret as Promise<unknown>).then(done, done);
  else done();
  return ret;
}
