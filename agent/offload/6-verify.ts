import type { NextFunction, Response } from 'express';
import type { Outcome } from '../../offload-worker';
import type { HandlerEntry } from '../registry';
import { recordResponse } from './6-shadow';

/**
 * Errors are verified, never trusted (README, "Consistency"): an offloaded run that ends in an error
 * (a throw, a rejected promise, next(err) with a server error, a 5xx response) may be a hole in what
 * the worker can reproduce. Its effects are discarded and the request runs here; if the local run
 * ends differently, the handler is held local (`diverged`) with both outcomes in its diff.
 */

/** What a run ended in, for comparing the worker's run with the local one. */
export type RunEnd = { error: string } | { status: number };

const errorText = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
const statusOf = (e: unknown) => {
  const s = (e as { status?: unknown; statusCode?: unknown } | null)?.status ?? (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : 500;
};

/** The status a worker's recorded calls end with (`res.sendStatus(503)` sets none on the recorder). */
function finalStatus(o: Outcome): number {
  let status = o.statusCode;
  for (const c of o.calls as unknown[][]) if (c[0] === 'sendStatus' && typeof c[1] === 'number') status = c[1];
  return status;
}

/** The worker's run ended in an error: thrown, passed to next() as a server error, or a 5xx. */
export function endedInError(o: Outcome): RunEnd | undefined {
  if (o.thrown !== undefined) return { error: errorText(o.thrown) };
  const e = o.next?.[0];
  if (e !== undefined && e !== 'route' && e !== 'router' && statusOf(e) >= 500) return { error: errorText(e) };
  const status = finalStatus(o);
  return status >= 500 ? { status } : undefined;
}

const same = (a: RunEnd, b: RunEnd) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Runs the request here (the client gets this run's response) and compares how it ends with the
 * worker's discarded run. `run` calls the handler with the given `next`.
 */
export async function runAndCompare(
  entry: HandlerEntry,
  worker: RunEnd,
  outcome: Outcome,
  res: Response,
  next: NextFunction,
  run: (next: NextFunction) => unknown,
  timeoutMs: number,
): Promise<void> {
  const rec = recordResponse(res);
  let end: RunEnd | undefined;
  let resolveEnd!: () => void;
  const ended = new Promise<void>((r) => (resolveEnd = r));
  const settle = (e: RunEnd) => {
    end ??= e;
    resolveEnd();
  };
  const onFinish = () => settle({ status: res.statusCode });
  res.once('finish', onFinish);
  res.once('close', onFinish);
  const localNext: NextFunction = ((err?: unknown) => {
    if (err !== undefined && err !== 'route' && err !== 'router') settle({ error: errorText(err) });
    else settle({ status: res.statusCode });
    next(err as Error);
  }) as NextFunction;
  try {
    const ret = run(localNext) as Promise<unknown> | undefined;
    if (ret && typeof ret.then === 'function') ret.then(undefined, (err) => localNext(err));
  } catch (err) {
    localNext(err);
  }
  const timer = setTimeout(resolveEnd, timeoutMs);
  timer.unref();
  await ended;
  clearTimeout(timer);
  rec.restore();
  res.off('finish', onFinish);
  res.off('close', onFinish);
  if (end === undefined || same(end, worker) || ('status' in end && 'status' in worker && end.status >= 500 && worker.status >= 500)) return;
  entry.phase = 'held';
  entry.shadowDiff = {
    at: new Date().toISOString(),
    paths: ['outcome'],
    local: { end, calls: rec.calls },
    offloaded: { end: worker, calls: outcome.calls },
  };
}

/**
 * A method-style (Nest) call whose worker run threw: the local call's result is what the caller
 * gets; if it does not throw the same, the handler is held local.
 */
export function compareCall(entry: HandlerEntry, worker: RunEnd, outcome: Outcome, run: () => unknown): unknown {
  const judge = (end: RunEnd) => {
    if (same(end, worker)) return;
    entry.phase = 'held';
    entry.shadowDiff = { at: new Date().toISOString(), paths: ['outcome'], local: { end }, offloaded: { end: worker, value: outcome.value } };
  };
  let local: unknown;
  try {
    local = run();
  } catch (err) {
    judge({ error: errorText(err) });
    throw err;
  }
  if (local && typeof (local as Promise<unknown>).then === 'function') {
    return (local as Promise<unknown>).then(
      (v) => (judge({ status: 200 }), v),
      (err) => {
        judge({ error: errorText(err) });
        throw err;
      },
    );
  }
  judge({ status: 200 });
  return local;
}
