import type { NextFunction, Request, Response } from 'express';
import { decode, INVOCATION_VERSION, type InvocationEvent, type Provider } from '../protocol';
import type { ExportTable } from '../gc';
import type { Outcome } from '../offload-worker';
import type { AgentOptions } from './config';
import { applyChanges } from './apply';
import { captureClosureAsync, type Packer } from './capture/closure';
import { serverDecodeHooks } from './channel/decode-hooks';
import type { Invocations } from './channel/invocations';
import { debug } from './debug';
import type { HandlerEntry } from './registry';
import { replayResponse } from './replay';
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
  packer(capability: string, shadow: boolean): Packer;
  onRequestDone(entry: HandlerEntry, where: 'local' | 'offloaded', ms: number): void;
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
    const r = this.ctx.ratio();
    return r > 0 && Math.random() < r;
  }

  runLocal(entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): unknown {
    const t0 = now();
    entry.local++;
    const done = () => {
      const ms = now() - t0;
      entry.localLatency.add(ms);
      entry.profile.add(ms);
      this.ctx.onRequestDone(entry, 'local', ms);
    };
    if (res.writableFinished) done();
    else res.once('finish', done);
    return entry.fn.call(self, req, res, next);
  }

  async offload(entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): Promise<void> {
    const t0 = now();
    const lease = this.ctx.exports.lease();
    const { record, cap } = this.ctx.invocations.open(entry.id, lease, entry.refined);
    let outcome: Outcome;
    try {
      const root = {
        handler: entry.fn,
        self,
        req: snapshotRequest(req),
        res: snapshotResponse(res),
        awaitPromise: entry.expressMajor >= 5,
        style: 'express',
      };
      let bytes: Buffer;
      const tc = now();
      try {
        bytes = (
          await captureClosureAsync(root, {
            lease,
            budget: this.ctx.options.closureBudget,
            refined: entry.refined,
            peekId: (o) => this.ctx.exports.peekId(o),
            pack: this.ctx.packer(cap, false),
          })
        ).bytes;
      } catch (err) {
        // Not offloadable as it stands: say why, and run it here from now on.
        entry.reason = String((err as Error).message ?? err);
        debug('agent', `${entry.id} not offloadable: ${entry.reason}`);
        this.ctx.invocations.close(record.id);
        this.runLocal(entry, self, req, res, next);
        return;
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
      };
      const b64 = bytes.toString('base64');
      if (b64.length + 1024 > provider.maxPayloadBytes) {
        record.closure = bytes;
        event.closureRef = record.id;
      } else event.closure = b64;
      const result = await provider.invoke(event, { timeoutMs: this.ctx.options.timeoutMs });
      if (!result.ok || typeof result.outcome !== 'string') {
        throw Object.assign(new Error(result.error?.message ?? 'worker failed'), { code: result.error?.code ?? 'BEEHIVE_ERR_WORKER_UNSUPPORTED' });
      }
      outcome = decode(Buffer.from(result.outcome, 'base64'), serverDecodeHooks(lease)) as Outcome;
      if (!outcome || typeof outcome !== 'object' || !Array.isArray(outcome.calls)) throw new Error('malformed outcome');
      if (outcome.bindings?.length) {
        const b = outcome.bindings[0];
        entry.reason = `assigns the captured variable '${b.name}': its new value could not be written back`;
        throw Object.assign(new Error(entry.reason), { code: 'BEEHIVE_ERR_CAPTURE_WRITE_BINDING' });
      }
      // The commit point.
      applyChanges(outcome.changes, (id) => lease.get(id));
    } catch (err) {
      const code = (err as { code?: string })?.code ?? '';
      if (code === 'BEEHIVE_ERR_CHANNEL_CONFLICT') entry.conflicts++;
      else entry.failures++;
      entry.reexecuted++;
      debug('agent', `${entry.id}: offload failed (${code}: ${(err as Error)?.message}); running locally`);
      this.ctx.invocations.close(record.id);
      this.runLocal(entry, self, req, res, next);
      return;
    }
    const fetched = record.fetched;
    this.ctx.invocations.close(record.id);
    entry.offloaded++;
    entry.fallbacks += fetched;
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
}
