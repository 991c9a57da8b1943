import type { NextFunction, Request, Response } from 'express';
import type { HandlerEntry } from '../registry';
import type { DispatchContext, Invoked } from './context';
import { needsShadow, shouldOffload } from './1-decide';
import { callLocal, runLocal, startLocal } from './1-local-run';
import { explainNestRefusal, markWorkerRefusal, nestRoot, nestValue, type NestCall } from './2-nest-call';
import { invokeExpress, invokeRoot } from './3-invoke';
import { commitOrRetry } from './4-commit';
import { replayOutcome } from './5-replay';
import { replayNestLogs } from './5-nest-logger';
import { failed, rerunLocal } from './6-fail-safe';
import { shadowCall, shadowRun } from './6-shadow-run';
import { compareCall, runAndCompare, type RunEnd } from './6-verify';

export type { DispatchContext } from './context';

const now = () => performance.now();

/**
 * Per request: run the handler locally or offload it, through the steps in this folder's order
 * (DESIGN.md §3 steps 3-8). An offload that fails before its commit point leaves no trace and the
 * request runs locally: the client gets exactly one response and the state changes once.
 */
export class Dispatcher {
  constructor(private readonly ctx: DispatchContext) {}

  /** 1. decide (1-decide.ts). */
  shouldOffload(entry: HandlerEntry): boolean {
    return shouldOffload(this.ctx.options, entry, () => this.ctx.ratio());
  }

  needsShadow(entry: HandlerEntry): boolean {
    return needsShadow(this.ctx.options, entry);
  }

  /** The handler runs here (1-local-run.ts). */
  runLocal(entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction, onClose?: () => void): unknown {
    return runLocal(this.ctx, entry, self, req, res, next, onClose);
  }

  callLocal(entry: HandlerEntry, self: unknown, args: unknown[]): unknown {
    return callLocal(this.ctx, entry, self, args);
  }

  /** Shadow runs before a handler goes live (6-shadow-run.ts). */
  shadowRun(entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): unknown {
    return shadowRun(this.ctx, entry, self, req, res, next);
  }

  shadowCall(entry: HandlerEntry, self: unknown, args: unknown[]): unknown {
    return shadowCall(this.ctx, entry, self, args);
  }

  /** An Express handler offloaded: 2 capture and 3 invoke, 4 commit, 5 replay; 6 on failure. */
  async offload(entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): Promise<void> {
    const t0 = now();
    const deadline = t0 + this.ctx.options.timeoutMs;
    let inv: Invoked;
    let error: RunEnd | undefined;
    try {
      // The server's req and res are untouched until the replay: a retry captures them afresh.
      ({ inv, error } = await commitOrRetry(this.ctx, entry, deadline, () => invokeExpress(this.ctx, entry, self, req, res, false, deadline)));
    } catch (err) {
      failed(entry, err);
      rerunLocal(this.ctx, entry, self, req, res, next);
      return;
    }
    if (error) {
      const done = startLocal(this.ctx, entry);
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

  /** A method-style handler offloaded: its value (or error) comes back; failures re-run it here. */
  async offloadCall(entry: HandlerEntry, self: unknown, args: unknown[]): Promise<unknown> {
    const t0 = now();
    const deadline = t0 + this.ctx.options.timeoutMs;
    let inv: Invoked;
    let error: RunEnd | undefined;
    let call: NestCall | undefined;
    try {
      ({ inv, error } = await commitOrRetry(this.ctx, entry, deadline, () => invokeRoot(this.ctx, entry, deadline, () => (call = nestRoot(entry, self, args)).root, false, { self })));
    } catch (err) {
      markWorkerRefusal(err);
      explainNestRefusal(err, self);
      failed(entry, err);
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
}
