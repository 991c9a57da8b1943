/**
 * The bounded set of server connections. Idle connections are reused most-recently-used first
 * (warm caches, and the others can age out); when all are busy a request waits in FIFO order, up
 * to `acquireTimeoutMs`. A connection is handed straight from a releasing client to a waiter.
 */
import { Backend, type UpstreamConfig } from './backend';
import { ProxyErrors } from '../errors';
import { debug } from '../debug';

export type AcquireCallback = (err: Error | null, backend: Backend | null) => void;

interface Waiter {
  cb: AcquireCallback;
  timer: NodeJS.Timeout;
  settled: boolean;
}

export interface PoolOptions {
  max: number;
  acquireTimeoutMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxMessageSize: number;
}

export class BackendPool {
  readonly all = new Set<Backend>();
  private readonly idle: Backend[] = [];
  private readonly waiters: Waiter[] = [];
  private connecting = 0;
  private closed = false;
  private reaper: NodeJS.Timeout;
  /** Counters read by the metrics. */
  waitsTotal = 0;
  connectErrors = 0;
  /** ParameterStatus values of the first connection: what clients are told at startup. */
  serverParams: Map<string, string> | null = null;

  constructor(
    readonly upstream: UpstreamConfig,
    readonly options: PoolOptions,
  ) {
    this.reaper = setInterval(() => this.reapIdle(), Math.max(1000, Math.min(options.idleTimeoutMs, 30_000)));
    this.reaper.unref();
  }

  get inUse(): number {
    return this.all.size - this.idle.length;
  }
  get idleCount(): number {
    return this.idle.length;
  }
  get waiting(): number {
    return this.waiters.length;
  }

  /** Calls back synchronously when an idle connection is at hand. */
  acquire(cb: AcquireCallback): void {
    if (this.closed) return cb(ProxyErrors.SHUTDOWN(), null);
    const b = this.idle.pop();
    if (b) return cb(null, b);
    this.waitsTotal++;
    const w: Waiter = { cb, settled: false, timer: setTimeout(() => this.expire(w), this.options.acquireTimeoutMs) };
    this.waiters.push(w);
    this.grow();
  }

  /** An idle connection, or null (nobody waits while one is idle: release hands it to a waiter first). */
  takeIdle(): Backend | null {
    return this.closed ? null : (this.idle.pop() ?? null);
  }

  /** Returns a clean connection (idle, no open transaction, nothing in flight). */
  release(b: Backend): void {
    b.owner = null;
    if (b.closed) return;
    if (this.closed) return b.terminate();
    const w = this.nextWaiter();
    if (w) return w.cb(null, b);
    b.idleSince = Date.now();
    this.idle.push(b);
  }

  /** A connection the caller could not clean: closed, and replaced if someone waits. */
  discard(b: Backend): void {
    b.owner = null;
    b.destroy();
  }

  /** Starts one connection, for ParameterStatus values before any client needs a backend. */
  warm(): Promise<void> {
    return Backend.connect(this.upstream, this.options.connectTimeoutMs, this.options.maxMessageSize).then((b) => {
      this.adopt(b);
      this.release(b);
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.reaper);
    for (const w of this.waiters.splice(0)) this.settle(w, ProxyErrors.SHUTDOWN(), null);
    for (const b of [...this.all]) {
      if (!b.owner) b.terminate();
    }
  }

  private grow(): void {
    while (!this.closed && this.waiters.length > this.connecting && this.all.size + this.connecting < this.options.max) {
      this.connecting++;
      Backend.connect(this.upstream, this.options.connectTimeoutMs, this.options.maxMessageSize).then(
        (b) => {
          this.connecting--;
          this.adopt(b);
          this.release(b);
        },
        (err: Error) => {
          this.connecting--;
          this.connectErrors++;
          debug('backend connect failed: %s', err.message);
          // Without any connection the waiters would only time out: tell them now.
          if (this.all.size === 0) {
            for (const w of this.waiters.splice(0, Math.max(1, this.waiters.length - this.connecting))) this.settle(w, err, null);
          }
        },
      );
    }
  }

  private adopt(b: Backend): void {
    if (!this.serverParams) this.serverParams = new Map(b.params);
    this.all.add(b);
    b.onClose = () => {
      this.all.delete(b);
      const i = this.idle.indexOf(b);
      if (i >= 0) this.idle.splice(i, 1);
      this.grow();
    };
  }

  private nextWaiter(): Waiter | undefined {
    for (let w = this.waiters.shift(); w; w = this.waiters.shift()) {
      if (!w.settled) {
        w.settled = true;
        clearTimeout(w.timer);
        return w;
      }
    }
    return undefined;
  }

  private settle(w: Waiter, err: Error | null, b: Backend | null): void {
    if (w.settled) return;
    w.settled = true;
    clearTimeout(w.timer);
    w.cb(err, b);
  }

  private expire(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
    this.settle(w, ProxyErrors.POOL_TIMEOUT(`after ${this.options.acquireTimeoutMs} ms`), null);
  }

  /** Closes connections idle longer than idleTimeoutMs, keeping one for quick starts. */
  private reapIdle(): void {
    const now = Date.now();
    while (this.idle.length > 1 && now - this.idle[0].idleSince > this.options.idleTimeoutMs) this.idle.shift()!.terminate();
  }
}
