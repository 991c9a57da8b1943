import { createHook } from 'node:async_hooks';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Readable } from 'node:stream';
import { WorkerErrors } from './errors';

/**
 * The worker half of a Nest controller method call (`style: 'call'`): which function runs, what its
 * return value becomes, and the work it leaves behind. The server half is agent/offload/2-nest-call.ts.
 */

export interface NestCallInfo {
  /** The method's name on the controller. */
  method: string;
  /** How many prototypes up from the controller's own the method is defined (0: its class). */
  depth: number;
}

/**
 * The method as the worker's copy of the controller class defines it: same source, same class body,
 * so `super.x()` resolves through its home object as on the server. A method shipped alone would
 * have an object literal for a home object. Falls back to the shipped function when the class copy
 * does not hold the same code (then a `super` in it is refused rather than run wrong).
 */
export function nestHandler(self: unknown, shipped: Function, info: NestCallInfo | undefined): Function {
  const src = Function.prototype.toString.call(shipped);
  if (info && self !== null && typeof self === 'object') {
    let home: object | null = Object.getPrototypeOf(self);
    for (let i = 0; i < info.depth && home; i++) home = Object.getPrototypeOf(home);
    const d = home ? Object.getOwnPropertyDescriptor(home, info.method) : undefined;
    if (d && typeof d.value === 'function' && Function.prototype.toString.call(d.value) === src) return d.value;
  }
  if (/\bsuper\s*(?:\.|\[)/.test(src)) {
    throw WorkerErrors.REFUSED(`${shipped.name || 'the method'} calls super, and the worker's copy of its class does not define it (its home object is lost)`);
  }
  return shipped;
}

const kObservable = Symbol.for('beehive.nest.observable');
const kFile = Symbol.for('beehive.nest.streamable');
const MAX_FILE = 8 * 1024 * 1024;

const isObservable = (v: unknown): v is { subscribe(o: object): { unsubscribe(): void } } =>
  !!v && typeof v === 'object' && typeof (v as { subscribe?: unknown }).subscribe === 'function' && typeof (v as { pipe?: unknown }).pipe === 'function' && typeof (v as { lift?: unknown }).lift === 'function';

const isStreamableFile = (v: unknown): v is { getStream(): unknown; options: Record<string, unknown> } =>
  !!v && typeof v === 'object' && typeof (v as { getStream?: unknown }).getStream === 'function' && typeof (v as { getHeaders?: unknown }).getHeaders === 'function' && typeof (v as { setErrorHandler?: unknown }).setErrorHandler === 'function';

/**
 * What a method returned, made into data the server can rebuild. An Observable is collected here,
 * to completion: its producer is worker code (a closure over worker copies), so the server cannot
 * subscribe to it; the server replays the notifications (next..., then error or complete) through an
 * Observable of its own rxjs, which Nest treats as it would the original (last value for a route,
 * one event each for @Sse). One that does not complete within the invocation is refused. A
 * StreamableFile is read to its bytes and rebuilt on the server with the same options.
 */
export async function settleNestValue(value: unknown, remainingMs: () => number): Promise<unknown> {
  if (isObservable(value)) {
    const values: unknown[] = [];
    const result = await new Promise<{ error?: unknown; failed: boolean }>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub?.unsubscribe();
        reject(WorkerErrors.REFUSED('the Observable it returned did not complete within the invocation (an endless stream is subscribed on the server only)'));
      }, Math.max(1, remainingMs()));
      let sub: { unsubscribe(): void } | undefined;
      sub = value.subscribe({
        next: (v: unknown) => values.push(v),
        error: (e: unknown) => (clearTimeout(timer), resolve({ error: e, failed: true })),
        complete: () => (clearTimeout(timer), resolve({ failed: false })),
      });
    });
    return { [kObservable]: true, values, failed: result.failed, error: result.error };
  }
  if (isStreamableFile(value)) {
    const stream = value.getStream();
    if (!(stream instanceof Readable)) throw WorkerErrors.REFUSED('a StreamableFile whose stream is not a Readable');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of stream) {
      const b = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
      size += b.length;
      if (size > MAX_FILE) throw WorkerErrors.REFUSED(`a StreamableFile over ${MAX_FILE} bytes`);
      chunks.push(b);
    }
    const { length: _length, ...options } = value.options ?? {};
    return { [kFile]: true, ctor: (value as { constructor: unknown }).constructor, bytes: Buffer.concat(chunks), options };
  }
  return value;
}

export const NEST_OBSERVABLE = kObservable;
export const NEST_FILE = kFile;

/**
 * Work the method schedules and does not wait for (`Promise.resolve().then(...)`, a `setTimeout`)
 * runs inside the invocation, before its changes are collected: the method's async context is
 * followed (AsyncLocalStorage) and the invocation waits until every timer and immediate it created
 * has run. A `setInterval`, or a timer still pending when the invocation's time is up, refuses the
 * method with a reason: its effects would otherwise be lost.
 */
export class PostReturnWork {
  private readonly als = new AsyncLocalStorage<object>();
  private readonly mark = {};
  private readonly pending = new Map<number, { type: string; resource: unknown }>();
  private wake?: () => void;
  private readonly hook = createHook({
    init: (id, type, _trigger, resource) => {
      if ((type === 'Timeout' || type === 'Immediate') && this.als.getStore() === this.mark) this.pending.set(id, { type, resource });
    },
    destroy: (id) => {
      if (this.pending.delete(id) && this.pending.size === 0) this.wake?.();
    },
  });

  run<T>(fn: () => T): T {
    this.hook.enable();
    return this.als.run(this.mark, fn);
  }

  dispose(): void {
    this.hook.disable();
    this.wake = undefined;
  }

  /** Waits for the method's leftover work; throws WORKER_REFUSED when it cannot finish here. */
  async settle(remainingMs: () => number): Promise<void> {
    {
      for (;;) {
        // Microtasks first (a setImmediate runs after all of them).
        await new Promise<void>((r) => setImmediate(r));
        if (this.pending.size === 0) return;
        for (const p of this.pending.values()) {
          const repeat = (p.resource as { _repeat?: unknown })?._repeat;
          if (p.type === 'Timeout' && repeat !== null && repeat !== undefined) throw WorkerErrors.REFUSED('it starts a setInterval, which would outlive the invocation');
        }
        const left = remainingMs();
        if (left <= 0) throw WorkerErrors.REFUSED('a timer it scheduled was still pending when the invocation ended');
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          this.wake = () => (clearTimeout(t), resolve());
        });
        this.wake = undefined;
      }
    }
  }
}
