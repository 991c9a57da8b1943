import type { NextFunction, Request, Response } from 'express';
import { ChannelErrors, decode, INVOCATION_VERSION, type InvocationEvent, type InvocationResult, type Provider } from '../../protocol';
import type { ExportTable } from '../../gc';
import type { Outcome } from '../../offload-worker';
import type { AgentOptions } from '../config';
import { invokeError } from '../providers/errors';
import { captureClosure, markStructural } from '../capture/closure';
import type { InvocationPacker } from './2-pg-pack';
import { serverDecodeHooks } from '../channel/decode-hooks';
import type { Invocations } from '../channel/invocations';
import { debug, debugEnabled } from '../debug';
import type { HandlerEntry } from '../registry';
import { replayOutcome } from './5-replay';
import { compareCall, endedInError, runAndCompare, type RunEnd } from './6-verify';
import { judgeShadow, recordResponse } from './6-shadow';
import { replayNestLogs } from './5-nest-logger';
import { explainNestRefusal, markWorkerRefusal, nestAllowsMemberWrites, nestRoot, nestShadowView, nestValue, type NestCall } from './2-nest-call';
import { snapshotRequest, snapshotResponse } from './2-request-snapshot';
import { conflictReason } from '../contention';

export interface DispatchContext {
  options: AgentOptions;
  exports: ExportTable;
  invocations: Invocations;
  channelUrl(): Promise<string>;
  provider(): Provider;
  /** Current global ratio (the controller or an operator changes it). */
  ratio(): number;
  /** Packs pg clients and pools into proxy hand-offs for this invocation. */
  packer(capability: string, shadow: boolean): InvocationPacker;
  onRequestDone(entry: HandlerEntry, where: 'local' | 'offloaded', ms: number): void;
  /** Adjusts the agent's in-flight count. */
  inFlight(delta: number): void;
}

const now = () => performance.now();
/** The least time left before a conflicting offload is retried on a worker rather than run here. */
const MIN_RETRY_MS = 100;


/**
 * Per request: run the handler locally or offload it (DESIGN.md §3 steps 3-8). An offload that fails
 * before its commit point leaves no trace and the request runs locally: the client gets exactly one
 * response and the state changes once.
 */
export class Dispatcher {
  constructor(private readonly ctx: DispatchContext) {}

  shouldOffload(entry: HandlerEntry): boolean {
    const o = this.ctx.options;
    if (o.mode === 'off' || entry.reason || entry.mode === 'off' || entry.phase === 'held') return false;
    if (o.routes.length > 0 && !o.routes.includes(entry.id)) return false;
    if (o.mode === 'always' || entry.mode === 'always') return true;
    if (o.mode === 'auto' && !entry.selected) return false;
    const r = entry.ratio ?? this.ctx.ratio();
    return r > 0 && Math.random() < r;
  }

  /** Counts a local run and returns the callback that records its duration when it ends. */
  private startLocal(entry: HandlerEntry): () => void {
    const t0 = now();
    entry.local++;
    return () => {
      const ms = now() - t0;
      entry.localLatency.add(ms);
      entry.profile.add(ms);
      this.ctx.onRequestDone(entry, 'local', ms);
    };
  }

  /**
   * Runs the handler here. One 'close' listener times it (and, given `onClose`, ends its in-flight
   * count): the agent's whole cost on a local request is this and a few counters.
   */
  runLocal(entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction, onClose?: () => void): unknown {
    const done = this.startLocal(entry);
    if (onClose) {
      this.ctx.inFlight(+1);
      res.once('close', () => {
        done();
        onClose();
      });
    } else if (res.writableFinished) done();
    else res.once('finish', done);
    return entry.fn.call(self, req, res, next);
  }

  /**
   * Captures and invokes once. Resolves with the worker's outcome, decoded against the invocation's
   * lease (still open: the caller commits or discards, then closes it).
   */
  private invoke(entry: HandlerEntry, self: unknown, req: Request, res: Response, shadow: boolean, deadline: number): Promise<Invoked> {
    return this.invokeRoot(
      entry,
      deadline,
      () => {
        const root = { handler: entry.fn, self, req: snapshotRequest(req), res: snapshotResponse(res), awaitPromise: entry.expressMajor >= 5, style: 'express' };
        markStructural(root, root.req, root.req.props, root.req.app, root.res);
        return root;
      },
      shadow,
    );
  }

  /**
   * Opens, captures and invokes; resolves with the outcome while the invocation is still open (the
   * caller commits or discards it, through `Invoked`, the one way an invocation ends). `deadline`
   * (a `performance.now()` time, set when the offload was decided) bounds everything: the wait for
   * a worker slot, its start, the run and the channel calls.
   */
  private async invokeRoot(entry: HandlerEntry, deadline: number, makeRoot: () => object, shadow: boolean, nest?: { self: unknown }): Promise<Invoked> {
    const lease = this.ctx.exports.lease();
    const { record, cap } = this.ctx.invocations.open(entry.id, lease, entry.refined, shadow);
    const contention = this.ctx.invocations.contention;
    if (nest) record.allowMemberWrites = (cls, members) => nestAllowsMemberWrites(entry, nest.self, cls, members);
    const packer = this.ctx.packer(cap, shadow);
    let ended = false;
    // Memory first (its keys are released there), then the database: a refused memory commit
    // rolls the database work back, so the local re-run starts from the same state.
    const discard = async () => {
      if (ended) return;
      ended = true;
      this.ctx.invocations.close(record.id);
      await packer.finish('rollback');
    };
    const commit = async (changes: unknown, reads: unknown) => {
      if (ended) throw ChannelErrors.ENDED(`invocation ${record.id}`);
      ended = true;
      try {
        this.ctx.invocations.commit(record.id, changes, reads);
      } catch (err) {
        await packer.finish('rollback');
        throw err;
      }
      // Memory has committed: from here on the request must not run again, whatever happens.
      await packer.finish('commit').catch((err: Error) => debug('agent', `${entry.id}: database commit: ${err?.message ?? err}`));
    };
    try {
      const root = makeRoot();
      const tc = now();
      let bytes: Buffer;
      try {
        bytes = captureClosure(root, {
          lease,
          budget: this.ctx.options.closureBudget,
          refined: entry.refined,
          peekId: (o) => this.ctx.exports.peekId(o),
          onShipped: (o) => record.reads.note(o),
          onBindings: (changed) => record.reads.noteCheck(changed),
          asReference: (o) => contention.isHot(o),
          allowMemberWrites: record.allowMemberWrites,
          pack: packer.pack,
          deferPack: (p) => {
            // Not awaited here: a failed pack surfaces when the worker asks for it.
            p.catch(() => {});
            return record.packs.push(p) - 1;
          },
        }).bytes;
      } catch (err) {
        // Refused for good, unless the capture says the obstacle passes (a pg client still connecting).
        throw Object.assign(err as Error, { notOffloadable: !(err as { transient?: boolean }).transient });
      }
      entry.captureMs.add(now() - tc);
      entry.closureBytes.add(bytes.length);
      const provider = this.ctx.provider();
      const event: InvocationEvent = {
        beehive: INVOCATION_VERSION,
        inv: record.id,
        cap,
        channel: await this.ctx.channelUrl(),
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
        throw Object.assign(new Error(result.error?.message ?? 'worker failed'), { code: result.error?.code ?? 'BEEHIVE_ERR_WORKER_UNSUPPORTED' });
      }
      const outcome = decode(Buffer.from(result.outcome, 'base64'), serverDecodeHooks(lease)) as Outcome;
      if (!outcome || typeof outcome !== 'object' || !Array.isArray(outcome.calls)) throw new Error('malformed outcome');
      if (debugEnabled('timing')) debug('timing', `${entry.id}: capture ${(ti - tc).toFixed(2)} ms, invoke ${(tr - ti).toFixed(2)} ms (worker ${JSON.stringify(result.timings)}), decode ${(now() - tr).toFixed(2)} ms`);
      // The worker's database work must be able to commit before anything of it is applied here.
      await packer.prepare();
      return { outcome, fetched: () => record.fetched, commit: () => commit(outcome.changes, outcome.reads), discard };
    } catch (err) {
      // The worker's work is undone (memory and database) before the request runs again here.
      await discard();
      throw err;
    }
  }

  async offload(entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): Promise<void> {
    const t0 = now();
    const deadline = t0 + this.ctx.options.timeoutMs;
    let inv: Invoked;
    let error: RunEnd | undefined;
    try {
      // The server's req and res are untouched until the replay: a retry captures them afresh.
      ({ inv, error } = await this.commitOrRetry(entry, deadline, () => this.invoke(entry, self, req, res, false, deadline)));
    } catch (err) {
      this.failed(entry, err);
      this.rerunLocal(entry, self, req, res, next);
      return;
    }
    if (error) {
      const done = this.startLocal(entry);
      await runAndCompare(entry, error, inv.outcome, res, next, (n) => entry.fn.call(self, req, res, n), this.ctx.options.timeoutMs);
      done();
      return;
    }
    const outcome = inv.outcome;
    entry.offloaded++;
    if (entry.phase !== 'held') entry.phase = 'live';
    entry.fallbacks += inv.fetched();
    try {
      await replayOutcome(req, res, outcome);
      if (outcome.thrown !== undefined) next(outcome.thrown);
      else if (outcome.next) next(...(outcome.next as [unknown]));
    } catch (err) {
      next(err);
    }
    const ms = now() - t0;
    entry.offloadLatency.add(ms);
    this.ctx.onRequestDone(entry, 'offloaded', ms);
  }

  /**
   * The local re-run of a failed offload. Nobody else holds its promise, so its rejection (or a
   * synchronous throw) goes to next(err) as Express 5 would route it — on Express 4 too, where the
   * app would otherwise die of an unhandled rejection that only the agent's re-run caused.
   */
  private rerunLocal(entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): void {
    let ret: unknown;
    try {
      ret = this.runLocal(entry, self, req, res, next);
    } catch (err) {
      return safeNext(next, err);
    }
    if (ret && typeof (ret as Promise<unknown>).then === 'function') (ret as Promise<unknown>).then(undefined, (err) => safeNext(next, err));
  }

  /** A method-style handler (Nest) run here, timed until its promise settles. */
  callLocal(entry: HandlerEntry, self: unknown, args: unknown[]): unknown {
    const done = this.startLocal(entry);
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

  /** A method-style handler offloaded: its value (or error) comes back; failures re-run it here. */
  async offloadCall(entry: HandlerEntry, self: unknown, args: unknown[]): Promise<unknown> {
    const t0 = now();
    const deadline = t0 + this.ctx.options.timeoutMs;
    let inv: Invoked;
    let error: RunEnd | undefined;
    let call: NestCall | undefined;
    try {
      ({ inv, error } = await this.commitOrRetry(entry, deadline, () => this.invokeRoot(entry, deadline, () => (call = nestRoot(entry, self, args)).root, false, { self })));
    } catch (err) {
      markWorkerRefusal(err);
      explainNestRefusal(err, self);
      this.failed(entry, err);
      // Returned to the caller (Nest awaits it): its rejection is the method's own.
      return this.callLocal(entry, self, args);
    }
    if (error) return compareCall(entry, error, inv.outcome, () => this.callLocal(entry, self, args));
    entry.offloaded++;
    if (entry.phase !== 'held') entry.phase = 'live';
    entry.fallbacks += inv.fetched();
    const ms = now() - t0;
    entry.offloadLatency.add(ms);
    this.ctx.onRequestDone(entry, 'offloaded', ms);
    replayNestLogs(inv.outcome.logs);
    const value = nestValue(call!, inv.outcome);
    if (inv.outcome.thrown !== undefined) throw inv.outcome.thrown;
    return value;
  }

  /**
   * Invokes and commits; an outcome ending in an error is discarded instead (agent/offload/6-verify.ts runs it
   * here). A conflicting commit is invoked again while `retryOnWorker` allows; any other failure,
   * or a conflict past the retries, is thrown for the caller's local re-run.
   */
  private async commitOrRetry(entry: HandlerEntry, deadline: number, invoke: () => Promise<Invoked>): Promise<{ inv: Invoked; error?: RunEnd }> {
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
        if (!this.retryOnWorker(entry, err, attempt, deadline)) throw err;
      }
    }
  }

  /**
   * A conflict is counted (with its reason) and, while retries and time are left, the request runs
   * again on a worker rather than here: its objects are captured afresh, and the ones that conflicted
   * are hot by now, so the retry locks them at first touch instead of racing for them again. Nothing
   * of the failed attempt was applied (DESIGN.md: the commit is all or nothing).
   */
  private retryOnWorker(entry: HandlerEntry, err: unknown, attempt: number, deadline: number): boolean {
    const reason = conflictReason(err);
    if (!reason) return false;
    entry.noteConflict(reason);
    const left = deadline - now();
    // Time for one more run at the handler's usual offloaded latency (or a floor before it has one).
    const needed = Math.max(MIN_RETRY_MS, 2 * (entry.offloadLatency.summary().p50 || 0));
    if (attempt >= this.ctx.options.conflictRetries || left < needed) return false;
    entry.retried++;
    debug('agent', `${entry.id}: ${reason} conflict (${(err as Error).message}); retrying on a worker (${attempt + 1}/${this.ctx.options.conflictRetries})`);
    return true;
  }

  private failed(entry: HandlerEntry, err: unknown): void {
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
    // Conflicts were counted, with their reason, by retryOnWorker.
    if (e?.code !== 'BEEHIVE_ERR_CHANNEL_CONFLICT') entry.noteFailure(err);
    entry.reexecuted++;
    debug('agent', `${entry.id}: offload failed (${e?.code}: ${e?.message}); running locally`);
  }

  /**
   * Whether this offload decision should be a shadow run instead: the first BEEHIVE_SHADOW_RUNS of a
   * handler in auto or manual mode (`always`, globally or for the handler, skips shadows).
   */
  needsShadow(entry: HandlerEntry): boolean {
    const o = this.ctx.options;
    return (o.mode === 'auto' || o.mode === 'manual') && entry.mode === 'auto' && o.shadowRuns > 0 && entry.phase !== 'live';
  }

  /**
   * A Nest method's shadow run: two shadow invocations capture the same state, the method runs here
   * for real (its value goes to Nest untouched), then the shadows' values, errors and `@Res`
   * response calls are compared with the local ones, as for Express handlers.
   */
  shadowCall(entry: HandlerEntry, self: unknown, args: unknown[]): unknown {
    if (entry.phase === 'held' || entry.shadowInFlight) return this.callLocal(entry, self, args);
    entry.phase = 'shadow';
    entry.shadowInFlight = true;
    let res: Response | undefined;
    const deadline = now() + this.ctx.options.timeoutMs;
    const one = () => this.invokeRoot(entry, deadline, () => { const c = nestRoot(entry, self, args); res = c.res; return c.root; }, true, { self });
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
      ret = this.callLocal(entry, self, args);
    } catch (err) {
      stop();
      local = Promise.resolve({ thrown: err, threw: true });
      void this.judgeNestShadow(entry, all, local, () => localCalls);
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
    void this.judgeNestShadow(entry, all, local, () => localCalls);
    return ret;
  }

  private async judgeNestShadow(
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
          this.failed(entry, s.reason);
        }
      }
      if (got.length < 2) return;
      entry.shadow++;
      const view = (o: Outcome) => nestShadowView({ value: o.value, thrown: o.thrown, threw: o.thrown !== undefined }, o.calls);
      const localView = nestShadowView(mine, localCalls());
      const verdict = judgeShadow(localView, view(got[0]), view(got[1]));
      if (verdict.clean) {
        if (++entry.cleanShadows >= this.ctx.options.shadowRuns) entry.phase = 'live';
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

  /**
   * The request runs locally for real; two shadow invocations run it on workers against the same
   * state, their effects discarded. N clean shadows make the handler live; a mismatch holds it.
   */
  shadowRun(entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): unknown {
    if (entry.phase === 'held' || entry.shadowInFlight) return this.runLocal(entry, self, req, res, next);
    entry.phase = 'shadow';
    entry.shadowInFlight = true;
    void this.shadowThenLocal(entry, self, req, res, next).catch((err) => debug('agent', `shadow: ${(err as Error).message}`));
    return undefined;
  }

  /**
   * Both shadows capture the closure synchronously, then the local run starts at once, with no await
   * in between: all three see the same memory state. (Database reads are not snapshotted: a shadow
   * that reads rows the local run is writing may differ; DESIGN.md notes it.)
   */
  private async shadowThenLocal(entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): Promise<void> {
    const deadline = now() + this.ctx.options.timeoutMs;
    const shadows = [this.invoke(entry, self, req, res, true, deadline), this.invoke(entry, self, req, res, true, deadline)];
    // Each shadow ends (is discarded) as soon as it returns: it must not keep its lease meanwhile.
    for (const p of shadows) p.then((inv) => inv.discard()).catch(() => {});
    const all = Promise.allSettled(shadows);
    const rec = recordResponse(res);
    const localDone = new Promise<void>((resolve) => res.once('finish', () => resolve()));
    try {
      const ret = this.runLocal(entry, self, req, res, next) as Promise<unknown> | undefined;
      if (ret && typeof ret.then === 'function') ret.then(undefined, (err) => safeNext(next, err));
    } catch (err) {
      safeNext(next, err);
    }
    const settled = await all;
    await Promise.race([localDone, new Promise((r) => setTimeout(r, this.ctx.options.timeoutMs).unref())]);
    rec.restore();
    entry.shadowInFlight = false;
    const got: Outcome[] = [];
    for (const s of settled) {
      if (s.status === 'fulfilled') got.push(s.value.outcome);
      else this.failed(entry, s.reason);
    }
    if (got.length < 2) return;
    entry.shadow++;
    const norm = (calls: unknown[], status: number) => [
      status,
      ...calls.filter((c) => (c as unknown[])[0] !== 'statusCode=').map((c) => ((c as unknown[])[0] === 'header' ? ['set', ...(c as unknown[]).slice(1)] : c)),
    ];
    const verdict = judgeShadow(norm(rec.calls, res.statusCode) as unknown[][], norm(got[0].calls, got[0].statusCode) as unknown[][], norm(got[1].calls, got[1].statusCode) as unknown[][]);
    if (verdict.clean) {
      if (++entry.cleanShadows >= this.ctx.options.shadowRuns) entry.phase = 'live';
    } else {
      entry.phase = 'held';
      entry.shadowDiff = { at: new Date().toISOString(), paths: verdict.paths, local: rec.calls, offloaded: got[0].calls };
      debug('agent', `${entry.id}: shadow mismatch at ${verdict.paths.join(', ')}; held local`);
    }
  }
}

interface Invoked {
  outcome: Outcome;
  fetched(): number;
  /** The commit point: memory (lock changes, then the final changes), then the database. */
  commit(): Promise<void>;
  /** Ends the invocation with nothing applied. Idempotent. */
  discard(): Promise<void>;
}

/** next(err) that cannot throw into a promise chain of the agent's. */
function safeNext(next: NextFunction, err: unknown): void {
  try {
    next(err);
  } catch (e) {
    debug('agent', `next(err) threw: ${(e as Error)?.message ?? e}`);
  }
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
