import type { NextFunction, Request, Response } from 'express';
import { decode, INVOCATION_VERSION, type InvocationEvent, type Provider } from '../protocol';
import type { ExportTable } from '../gc';
import type { Outcome } from '../offload-worker';
import type { AgentOptions } from './config';
import { applyChanges } from './apply';
import { captureClosure, markStructural } from './capture/closure';
import type { InvocationPacker } from './pg-pack';
import { serverDecodeHooks } from './channel/decode-hooks';
import type { Invocations } from './channel/invocations';
import { debug, debugEnabled } from './debug';
import type { HandlerEntry } from './registry';
import { replayResponse } from './replay';
import { judgeShadow, recordResponse } from './shadow';
import { snapshotRequest, snapshotResponse } from './request-snapshot';

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

/**
 * Per request: run the handler locally or offload it (DESIGN.md §3 steps 3-8). An offload that fails
 * before its commit point leaves no trace and the request runs locally: the client gets exactly one
 * response and the state changes once.
 */
export class Dispatcher {
  constructor(private readonly ctx: DispatchContext) {}

  shouldOffload(entry: HandlerEntry): boolean {
    const o = this.ctx.options;
    if (o.mode === 'off' || entry.reason || entry.mode === 'off') return false;
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
  private invoke(entry: HandlerEntry, self: unknown, req: Request, res: Response, shadow: boolean): Promise<Invoked> {
    return this.invokeRoot(
      entry,
      () => {
        const root = { handler: entry.fn, self, req: snapshotRequest(req), res: snapshotResponse(res), awaitPromise: entry.expressMajor >= 5, style: 'express' };
        markStructural(root, root.req, root.req.props, root.req.app, root.res);
        return root;
      },
      shadow,
    );
  }

  private async invokeRoot(entry: HandlerEntry, makeRoot: () => object, shadow: boolean): Promise<Invoked> {
    const lease = this.ctx.exports.lease();
    const { record, cap } = this.ctx.invocations.open(entry.id, lease, entry.refined, shadow);
    const close = () => this.ctx.invocations.close(record.id);
    const packer = this.ctx.packer(cap, shadow);
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
          pack: packer.pack,
          deferPack: (p) => {
            // Not awaited here: a failed pack surfaces when the worker asks for it.
            p.catch(() => {});
            return record.packs.push(p) - 1;
          },
        }).bytes;
      } catch (err) {
        throw Object.assign(err as Error, { notOffloadable: true });
      }
      entry.captureMs.add(now() - tc);
      entry.closureBytes.add(bytes.length);
      const provider = this.ctx.provider();
      const event: InvocationEvent = {
        beehive: INVOCATION_VERSION,
        inv: record.id,
        cap,
        channel: await this.ctx.channelUrl(),
        timeoutMs: this.ctx.options.timeoutMs,
        ...(shadow ? { shadow: true } : {}),
      };
      const b64 = bytes.toString('base64');
      if (b64.length + 1024 > provider.maxPayloadBytes) {
        record.closure = bytes;
        event.closureRef = record.id;
      } else event.closure = b64;
      const ti = now();
      const result = await provider.invoke(event, { timeoutMs: this.ctx.options.timeoutMs });
      const tr = now();
      if (result.billing) {
        entry.cost.billedMs += result.billing.billedMs;
        entry.cost.gbSeconds += result.billing.gbSeconds;
        entry.cost.usd += result.billing.usd;
      }
      if (!result.ok || typeof result.outcome !== 'string') {
        throw Object.assign(new Error(result.error?.message ?? 'worker failed'), { code: result.error?.code ?? 'BEEHIVE_ERR_WORKER_UNSUPPORTED' });
      }
      const outcome = decode(Buffer.from(result.outcome, 'base64'), serverDecodeHooks(lease)) as Outcome;
      if (!outcome || typeof outcome !== 'object' || !Array.isArray(outcome.calls)) throw new Error('malformed outcome');
      if (debugEnabled('timing')) debug('timing', `${entry.id}: capture ${(ti - tc).toFixed(2)} ms, invoke ${(tr - ti).toFixed(2)} ms (worker ${JSON.stringify(result.timings)}), decode ${(now() - tr).toFixed(2)} ms`);
      return { outcome, lease, fetched: () => record.fetched, close, finish: (o) => packer.finish(o) };
    } catch (err) {
      close();
      // The worker's database work is undone before the request runs again here.
      await packer.finish('rollback');
      throw err;
    }
  }

  async offload(entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): Promise<void> {
    const t0 = now();
    let inv: Invoked;
    try {
      inv = await this.invoke(entry, self, req, res, false);
      await this.commit(inv);
    } catch (err) {
      this.failed(entry, err);
      this.runLocal(entry, self, req, res, next);
      return;
    }
    const outcome = inv.outcome;
    entry.offloaded++;
    if (entry.phase !== 'held') entry.phase = 'live';
    entry.fallbacks += inv.fetched();
    try {
      replayResponse(res, outcome.calls);
      if (outcome.thrown !== undefined) next(outcome.thrown);
      else if (outcome.next) next(...(outcome.next as [unknown]));
    } catch (err) {
      next(err);
    }
    const ms = now() - t0;
    entry.offloadLatency.add(ms);
    this.ctx.onRequestDone(entry, 'offloaded', ms);
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
    let inv: Invoked;
    try {
      inv = await this.invokeRoot(
        entry,
        () => {
          const root = { handler: entry.fn, self, args, style: 'call', awaitPromise: true, req: { props: {}, headers: {}, app: { locals: {}, settings: {} } }, res: { locals: {}, statusCode: 200, headers: {} } };
          markStructural(root, root.args, root.req, root.res);
          return root;
        },
        false,
      );
      await this.commit(inv);
    } catch (err) {
      this.failed(entry, err);
      return this.callLocal(entry, self, args);
    }
    entry.offloaded++;
    if (entry.phase !== 'held') entry.phase = 'live';
    entry.fallbacks += inv.fetched();
    const ms = now() - t0;
    entry.offloadLatency.add(ms);
    this.ctx.onRequestDone(entry, 'offloaded', ms);
    if (inv.outcome.thrown !== undefined) throw inv.outcome.thrown;
    return inv.outcome.value;
  }

  /**
   * The commit point: the dirty set is applied all or nothing, then the database hand-offs commit.
   * A refused dirty set rolls the hand-offs back, so the local re-run starts from the same state.
   */
  private async commit(inv: Invoked): Promise<void> {
    try {
      applyChanges(inv.outcome.changes, (id) => inv.lease.get(id));
    } catch (err) {
      inv.close();
      await inv.finish('rollback');
      throw err;
    }
    inv.close();
    await inv.finish('commit');
  }

  private failed(entry: HandlerEntry, err: unknown): void {
    const e = err as { code?: string; message?: string; notOffloadable?: boolean };
    if (e?.notOffloadable) {
      // Not offloadable as it stands: say why, and run it here from now on.
      entry.reason = String(e.message ?? err);
      debug('agent', `${entry.id} not offloadable: ${entry.reason}`);
      return;
    }
    if (e?.code === 'BEEHIVE_ERR_CHANNEL_CONFLICT') entry.conflicts++;
    else entry.failures++;
    entry.reexecuted++;
    debug('agent', `${entry.id}: offload failed (${e?.code}: ${e?.message}); running locally`);
  }

  /**
   * Whether this offload decision should be a shadow run instead: the first BEEHIVE_SHADOW_RUNS of a
   * handler in auto or manual mode (`always`, globally or for the handler, skips shadows).
   */
  needsShadow(entry: HandlerEntry): boolean {
    const o = this.ctx.options;
    // Method-style (Nest) handlers go live without shadows for now: their comparison is not built.
    return (o.mode === 'auto' || o.mode === 'manual') && entry.mode === 'auto' && o.shadowRuns > 0 && entry.phase !== 'live' && entry.framework === 'express';
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
    const all = Promise.allSettled([this.invoke(entry, self, req, res, true), this.invoke(entry, self, req, res, true)]);
    const rec = recordResponse(res);
    const localDone = new Promise<void>((resolve) => res.once('finish', () => resolve()));
    try {
      const ret = this.runLocal(entry, self, req, res, next) as Promise<unknown> | undefined;
      if (ret && typeof ret.then === 'function') ret.then(undefined, (err) => next(err));
    } catch (err) {
      next(err);
    }
    const settled = await all;
    await Promise.race([localDone, new Promise((r) => setTimeout(r, this.ctx.options.timeoutMs).unref())]);
    rec.restore();
    entry.shadowInFlight = false;
    const got: Outcome[] = [];
    for (const s of settled) {
      if (s.status === 'fulfilled') {
        s.value.close();
        got.push(s.value.outcome);
      } else this.failed(entry, s.reason);
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
  lease: import('../gc').Lease;
  fetched(): number;
  close(): void;
  finish(outcome: 'commit' | 'rollback'): Promise<void>;
}
