import type { NextFunction, Request, Response } from 'express';
import type { Outcome } from '../../offload-worker';
import { debug } from '../debug';
import type { HandlerEntry } from '../registry';
import type { DispatchContext, Invoked } from './context';
import { callLocal, runLocal } from './1-local-run';
import { markWorkerRefusal, nestRoot, nestShadowView } from './2-nest-call';
import { invokeExpress, invokeRoot } from './3-invoke';
import { failed, safeNext } from './6-fail-safe';
import { judgeShadow, recordResponse } from './6-shadow';

/**
 * Shadow runs, before a handler goes live: the request runs here for real while two workers run it
 * against the same state, their effects discarded (6-shadow.ts judges them). N clean shadows make
 * the handler live; a mismatch holds it local.
 */

const now = () => performance.now();

/** An Express handler's shadow run (or a plain local run while one is in flight or it is held). */
export function shadowRun(ctx: DispatchContext, entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): unknown {
  if (entry.phase === 'held' || entry.shadowInFlight) return runLocal(ctx, entry, self, req, res, next);
  entry.phase = 'shadow';
  entry.shadowInFlight = true;
  void shadowThenLocal(ctx, entry, self, req, res, next).catch((err) => debug('agent', `shadow: ${(err as Error).message}`));
  return undefined;
}

/**
 * Both shadows capture the closure synchronously, then the local run starts at once, with no await
 * in between: all three see the same memory state. (Database reads are not snapshotted: a shadow
 * that reads rows the local run is writing may differ; DESIGN.md notes it.)
 */
async function shadowThenLocal(ctx: DispatchContext, entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): Promise<void> {
  const deadline = now() + ctx.options.timeoutMs;
  const shadows = [invokeExpress(ctx, entry, self, req, res, true, deadline), invokeExpress(ctx, entry, self, req, res, true, deadline)];
  // Each shadow ends (is discarded) as soon as it returns: it must not keep its lease meanwhile.
  for (const p of shadows) p.then((inv) => inv.discard()).catch(() => {});
  const all = Promise.allSettled(shadows);
  const rec = recordResponse(res);
  const localDone = new Promise<void>((resolve) => res.once('finish', () => resolve()));
  try {
    const ret = runLocal(ctx, entry, self, req, res, next) as Promise<unknown> | undefined;
    if (ret && typeof ret.then === 'function') ret.then(undefined, (err) => safeNext(next, err));
  } catch (err) {
    safeNext(next, err);
  }
  const settled = await all;
  await Promise.race([localDone, new Promise((r) => setTimeout(r, ctx.options.timeoutMs).unref())]);
  rec.restore();
  entry.shadowInFlight = false;
  const got: Outcome[] = [];
  for (const s of settled) {
    if (s.status === 'fulfilled') got.push(s.value.outcome);
    else failed(entry, s.reason);
  }
  if (got.length < 2) return;
  entry.shadow++;
  const norm = (calls: unknown[], status: number) => [
    status,
    ...calls.filter((c) => (c as unknown[])[0] !== 'statusCode=').map((c) => ((c as unknown[])[0] === 'header' ? ['set', ...(c as unknown[]).slice(1)] : c)),
  ];
  const verdict = judgeShadow(norm(rec.calls, res.statusCode) as unknown[][], norm(got[0].calls, got[0].statusCode) as unknown[][], norm(got[1].calls, got[1].statusCode) as unknown[][]);
  if (verdict.clean) {
    if (++entry.cleanShadows >= ctx.options.shadowRuns) entry.phase = 'live';
  } else {
    entry.phase = 'held';
    entry.shadowDiff = { at: new Date().toISOString(), paths: verdict.paths, local: rec.calls, offloaded: got[0].calls };
    debug('agent', `${entry.id}: shadow mismatch at ${verdict.paths.join(', ')}; held local`);
  }
}

/**
 * A Nest method's shadow run: two shadow invocations capture the same state, the method runs here
 * for real (its value goes to Nest untouched), then the shadows' values, errors and `@Res`
 * response calls are compared with the local ones, as for Express handlers.
 */
export function shadowCall(ctx: DispatchContext, entry: HandlerEntry, self: unknown, args: unknown[]): unknown {
  if (entry.phase === 'held' || entry.shadowInFlight) return callLocal(ctx, entry, self, args);
  entry.phase = 'shadow';
  entry.shadowInFlight = true;
  let res: Response | undefined;
  const deadline = now() + ctx.options.timeoutMs;
  const one = () => invokeRoot(ctx, entry, deadline, () => { const c = nestRoot(entry, self, args); res = c.res; return c.root; }, true, { self });
  const shadows = [one(), one()];
  // Each shadow ends (is discarded) as soon as it returns: it must not keep its lease meanwhile.
  for (const p of shadows) p.then((inv) => inv.discard()).catch(() => {});
  const all = Promise.allSettled(shadows);
  const rec = res ? recordResponse(res) : undefined;
  let localCalls: unknown[] = [];
  const stop = () => {
    localCalls = rec ? rec.calls.slice() : [];
    rec?.restore();
  };
  let local: Promise<{ value?: unknown; thrown?: unknown; threw: boolean }>;
  let ret: unknown;
  try {
    ret = callLocal(ctx, entry, self, args);
  } catch (err) {
    stop();
    local = Promise.resolve({ thrown: err, threw: true });
    void judgeNestShadow(ctx, entry, all, local, () => localCalls);
    throw err;
  }
  if (ret && typeof (ret as Promise<unknown>).then === 'function') {
    local = (ret as Promise<unknown>).then(
      (value) => (stop(), { value, threw: false }),
      (thrown) => (stop(), { thrown, threw: true }),
    );
  } else {
    stop();
    local = Promise.resolve({ value: ret, threw: false });
  }
  void judgeNestShadow(ctx, entry, all, local, () => localCalls);
  return ret;
}

async function judgeNestShadow(
  ctx: DispatchContext,
  entry: HandlerEntry,
  all: Promise<PromiseSettledResult<Invoked>[]>,
  local: Promise<{ value?: unknown; thrown?: unknown; threw: boolean }>,
  localCalls: () => unknown[],
): Promise<void> {
  try {
    const [settled, mine] = await Promise.all([all, local]);
    entry.shadowInFlight = false;
    const got: Outcome[] = [];
    for (const s of settled) {
      if (s.status === 'fulfilled') got.push(s.value.outcome);
      else {
        markWorkerRefusal(s.reason);
        failed(entry, s.reason);
      }
    }
    if (got.length < 2) return;
    entry.shadow++;
    const view = (o: Outcome) => nestShadowView({ value: o.value, thrown: o.thrown, threw: o.thrown !== undefined }, o.calls);
    const localView = nestShadowView(mine, localCalls());
    const verdict = judgeShadow(localView, view(got[0]), view(got[1]));
    if (verdict.clean) {
      if (++entry.cleanShadows >= ctx.options.shadowRuns) entry.phase = 'live';
    } else {
      entry.phase = 'held';
      entry.shadowDiff = { at: new Date().toISOString(), paths: verdict.paths, local: localView, offloaded: view(got[0]) };
      debug('agent', `${entry.id}: shadow mismatch at ${verdict.paths.join(', ')}; held local`);
    }
  } catch (err) {
    entry.shadowInFlight = false;
    debug('agent', `shadow: ${(err as Error).message}`);
  }
}
