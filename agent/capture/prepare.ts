import type { Lease } from '../../gc';
import { isPgObject } from '../../proxy';
import { captureClosure, markStructural, type Packer } from './closure';
import { hasFunctionInfo } from './function-record';

/**
 * Captures made ahead of a handler's first request and thrown away. The first capture of a handler
 * pays one-time costs that later captures find cached: the source of each function it reaches
 * parsed and analysed (acorn), the inspector's location and scope reads of them — 60 ms for the
 * demo's preview handler (marked, the thumbnailer), measured, against 4 ms for its next capture.
 * Paid on the request, they made the first offload of a handler several times slower than a local
 * run; a burst is exactly when a handler is offloaded for the first time.
 *
 * The capture is the real one, over the handler's own closure (no request: that part is small and
 * built afresh each time), under a lease of its own released at once, with no read set and no pg
 * hand-off (a pg client or pool gets a placeholder; nothing is asked of the proxy), and an app's own
 * `Symbol.for('beehive.pack')` packer is not called. It reads state as a request's capture does
 * (descriptors), so doing it early changes nothing; whatever stops it (a refusal) the first real
 * capture meets again and reports.
 */
export function prepareCapture(handler: Function, lease: () => Lease, budget: number): { ok: boolean; replanned?: boolean } {
  const l = lease();
  try {
    // Structural, as a request's root is: what it holds ships inline, within the budget.
    const root = { handler };
    markStructural(root);
    // Unplanned first, as the requests' captures: whether the closure fits tells them whether to plan.
    const c = captureClosure(root, { lease: l, budget, pack: placeholderPack, unplannedFirst: true, dry: true });
    return { ok: true, replanned: c.replanned };
  } catch {
    return { ok: false };
  } finally {
    l.release();
  }
}

const placeholderPack: Packer = (v) => (isPgObject(v) ? { unpacker: 'none' } : undefined);

export interface PreparerOptions {
  lease: () => Lease;
  budget: number;
  /** After the last registration, how long the app's own start-up is given before preparing. */
  delayMs?: number;
  /**
   * CPU the preparation may take in all (default 2 s): an app with hundreds of routes then leaves
   * the rest to their first requests rather than spend seconds of start-up on them.
   */
  maxTotalMs?: number;
  /** Called after each handler (for the debug log and the tests). */
  onPrepared?(label: string, ok: boolean, ms: number): void;
  /** Called when the queue has emptied, every handler prepared or the CPU allowance spent. */
  onIdle?(): void;
}

/**
 * Prepares registered handlers in the background: one per macrotask once the app has registered
 * its routes and `delayMs` passed, so that a request arriving meanwhile waits for at most one.
 */
export class Preparer {
  private readonly queue: Array<{ fn: Function; label: string; replanned?: () => void }> = [];
  private readonly seen = new WeakSet<Function>();
  private timer?: NodeJS.Timeout;
  private closed = false;
  prepared = 0;
  ms = 0;

  constructor(private readonly o: PreparerOptions) {}

  /**
   * A handler to prepare (a Nest method without its instance: the class's code is what costs).
   * `replanned` is called when its closure had to be planned (past the budget, or a pack or refusal
   * met unplanned): its captures then plan from the
   * first (an unplanned pass cut at the budget would cost that request a wasted encode, and note in
   * its read set what then travels as references).
   */
  add(fn: Function, label = fn.name || '(anonymous)', replanned?: () => void): void {
    if (this.closed || this.seen.has(fn)) return;
    this.seen.add(fn);
    this.queue.push({ fn, label, replanned });
    this.schedule(this.o.delayMs ?? 100);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.step(), ms);
    this.timer.unref();
  }

  private step(): void {
    const next = this.queue.shift();
    if (!next) return;
    if (this.ms >= (this.o.maxTotalMs ?? 2000)) {
      this.queue.length = 0;
      this.o.onIdle?.();
      return;
    }
    // A request got there first: its capture paid the costs.
    if (hasFunctionInfo(next.fn)) return this.after();
    const t0 = performance.now();
    const { ok, replanned } = prepareCapture(next.fn, this.o.lease, this.o.budget);
    if (replanned) next.replanned?.();
    const ms = performance.now() - t0;
    this.prepared++;
    this.ms += ms;
    this.o.onPrepared?.(next.label, ok, ms);
    this.after();
  }

  private after(): void {
    if (this.queue.length) this.schedule(0);
    else this.o.onIdle?.();
  }

  /** Whether every handler added so far has been prepared. */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.queue.length = 0;
  }
}
