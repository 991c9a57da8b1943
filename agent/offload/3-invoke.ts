import type { Request, Response } from 'express';
import { BeehiveError, ChannelErrors, decode, INVOCATION_VERSION, type InvocationEvent, type InvocationResult, type Provider } from '../../protocol';
import { WorkerErrors, type Outcome } from '../../offload-worker';
import { serverDecodeHooks } from '../channel/decode-hooks';
import { debug, debugEnabled } from '../debug';
import { invokeError } from '../providers/errors';
import type { HandlerEntry } from '../registry';
import type { DispatchContext, Invoked } from './context';
import { captureRoot, expressRoot, openInvocation, type Opened } from './2-capture';
import { endings } from './4-commit';
import { OffloadErrors } from './errors';

/**
 * Step 3, invoke (DESIGN.md §3 step 5): the provider runs the closure on a worker, which calls back
 * over the channel (agent/channel/) while it runs; its outcome comes back decoded against the
 * invocation's lease, the invocation still open for step 4.
 */

const now = () => performance.now();

/** An Express handler captured and invoked once (the server's req and res stay untouched). */
export function invokeExpress(ctx: DispatchContext, entry: HandlerEntry, self: unknown, req: Request, res: Response, shadow: boolean, deadline: number): Promise<Invoked> {
  return invokeRoot(ctx, entry, deadline, () => expressRoot(entry, self, req, res), shadow);
}

/**
 * Opens, captures and invokes; resolves with the outcome while the invocation is still open (the
 * caller commits or discards it, through `Invoked`, the one way an invocation ends). `deadline`
 * (a `performance.now()` time, set when the offload was decided) bounds everything: the wait for
 * a worker slot, its start, the run and the channel calls.
 */
export async function invokeRoot(ctx: DispatchContext, entry: HandlerEntry, deadline: number, makeRoot: () => object, shadow: boolean, nest?: { self: unknown }): Promise<Invoked> {
  const inv = openInvocation(ctx, entry, shadow, nest);
  const { commit, discard } = endings(ctx, entry, inv);
  try {
    const root = makeRoot();
    const tc = now();
    const bytes = captureRoot(ctx, entry, inv, root);
    const outcome = await invokeWorker(ctx, entry, inv, bytes, shadow, deadline, tc);
    // The worker's database work must be able to commit before anything of it is applied here.
    await inv.packer.prepare();
    return { outcome, fetched: () => inv.record.fetched, commit: () => commit(outcome.changes, outcome.reads), discard };
  } catch (err) {
    // The worker's work is undone (memory and database) before the request runs again here.
    await discard();
    throw err;
  }
}

/** Sends the closure (inline, or by reference when it would not fit the payload) and decodes the outcome. */
async function invokeWorker(ctx: DispatchContext, entry: HandlerEntry, inv: Opened, bytes: Buffer, shadow: boolean, deadline: number, tc: number): Promise<Outcome> {
  const { record, cap, lease } = inv;
  const provider = ctx.provider();
  const event: InvocationEvent = {
    beehive: INVOCATION_VERSION,
    inv: record.id,
    cap,
    channel: await ctx.channelUrl(),
    timeoutMs: Math.max(1, Math.floor(deadline - now())),
    ...(shadow ? { shadow: true } : {}),
  };
  const b64 = bytes.toString('base64');
  if (b64.length + 1024 > provider.maxPayloadBytes) {
    record.closure = bytes;
    event.closureRef = record.id;
  } else event.closure = b64;
  const ti = now();
  const result = await withDeadline(provider, event, deadline);
  const tr = now();
  if (result.billing) {
    entry.cost.billedMs += result.billing.billedMs;
    entry.cost.gbSeconds += result.billing.gbSeconds;
    entry.cost.usd += result.billing.usd;
  }
  if (!result.ok || typeof result.outcome !== 'string') {
    // A deadlock's victim fails on its worker (its fetch was refused): it is a conflict, run again.
    if (record.doomed && ChannelErrors.CONFLICT.is(record.doomed)) throw record.doomed;
    // The worker's own coded error, as it reported it.
    throw new BeehiveError(result.error?.code ?? WorkerErrors.UNSUPPORTED.code, result.error?.message ?? 'worker failed');
  }
  const outcome = decode(Buffer.from(result.outcome, 'base64'), serverDecodeHooks(lease)) as Outcome;
  if (!outcome || typeof outcome !== 'object' || !Array.isArray(outcome.calls)) throw OffloadErrors.OUTCOME('no recorded response calls');
  if (debugEnabled('timing')) debug('timing', `${entry.id}: capture ${(ti - tc).toFixed(2)} ms, invoke ${(tr - ti).toFixed(2)} ms (worker ${JSON.stringify(result.timings)}), decode ${(now() - tr).toFixed(2)} ms`);
  return outcome;
}

/**
 * The provider's invoke bounded by the invocation's deadline, whatever the provider does: a
 * provider that overruns it is abandoned (its late answer is dropped; the invocation is discarded,
 * so nothing it did can commit) and the request runs locally.
 */
function withDeadline(provider: Provider, event: InvocationEvent, deadline: number): Promise<InvocationResult> {
  const left = Math.floor(deadline - now());
  if (left <= 0) return Promise.reject(invokeError('TIMEOUT', 'the deadline passed before the invoke'));
  const p = provider.invoke(event, { timeoutMs: left });
  return new Promise<InvocationResult>((resolve, reject) => {
    const t = setTimeout(() => reject(invokeError('TIMEOUT', `no result within the ${left} ms left of the deadline`)), left);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
