/**
 * The bounded set of server connections. Connections are kept per startup-parameter set (a
 * client's application_name, client_encoding, options, ...: see BackendStartup), so a client is
 * served only by backends that PostgreSQL started with its own parameters. Idle connections are
 * reused most-recently-used first (warm caches, and the others can age out); when all are busy a
 * request waits in FIFO order, up to `acquireTimeoutMs`. A connection is handed straight from a
 * releasing client to a waiter of the same parameters; at the `max` limit an idle connection of
 * other parameters is closed to make room for a waiter.
 */
import { Backend, kNoParams, type BackendStartup, type UpstreamConfig } from './backend';
import { ProxyErrors } from '../errors';
import { debug } from '../debug';

export type AcquireCallback = (err: Error | null, backend: Backend | null) => void;

/** One pool (a database, user and parameter set) as SHOW POOLS lists it. */
export interface PoolRow {
  key: string;
  database: string;
  user: string;
  params: Readonly<Record<string, string>>;
  active: number;
  idle: number;
  waiting: number;
  connecting: number;
}

interface Waiter {
  cb: AcquireCallback;
  timer: NodeJS.Timeout;
  settled: boolean;
  startup: BackendStartup;
}

export interface PoolOptions {
  max: number;
  acquireTimeoutMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxMessageSize: number;
}

/** Parameter sets remembered (their ParameterStatus) beyond those with live connections. */
const kMaxRememberedKeys = 1024;

export class BackendPool {
  readonly all = new Set<Backend>();
  /** Idle connections per startup key, most recently released last. */
  private readonly idle = new Map<string, Backend[]>();
  private idleTotal = 0;
  private readonly waiters: Waiter[] = [];
  private readonly connecting = new Map<string, number>();
  private connectingTotal = 0;
  private closed = false;
  private reaper: NodeJS.Timeout;
  /** Counters read by the metrics. */
  waitsTotal = 0;
  connectErrors = 0;
  /** ParameterStatus of the first connection of each startup key: what its clients are told at startup. */
  private readonly params = new Map<string, Map<string, string>>();
  /** PAUSE of the admin console: no connection is handed out until resume(). */
  private paused = false;
  private onDrained: Array<() => void> = [];

  constructor(
    readonly upstream: UpstreamConfig,
    readonly options: PoolOptions,
  ) {
    this.reaper = setInterval(() => this.reapIdle(), Math.max(1000, Math.min(options.idleTimeoutMs, 30_000)));
    this.reaper.unref();
  }

  get inUse(): number {
    return this.all.size - this.idleTotal;
  }
  get idleCount(): number {
    return this.idleTotal;
  }
  get waiting(): number {
    return this.waiters.length;
  }

  /** The ParameterStatus values a fresh backend with these parameters sent, once one has connected. */
  serverParams(startup: BackendStartup = kNoParams): Map<string, string> | undefined {
    return this.params.get(startup.key);
  }

  /** Calls back synchronously when an idle connection is at hand. */
  acquire(cb: AcquireCallback, startup: BackendStartup = kNoParams): void {
    if (this.closed) return cb(ProxyErrors.SHUTDOWN(), null);
    const b = this.paused ? null : this.popIdle(startup.key);
    if (b) return cb(null, b);
    this.waitsTotal++;
    const w: Waiter = { cb, startup, settled: false, timer: setTimeout(() => this.expire(w), this.options.acquireTimeoutMs) };
    this.waiters.push(w);
    this.grow();
  }

  /** An idle connection, or null (nobody waits while one is idle: release hands it to a waiter first). */
  takeIdle(startup: BackendStartup = kNoParams): Backend | null {
    return this.closed || this.paused ? null : this.popIdle(startup.key);
  }

  /**
   * Stops handing out connections (clients that need one wait, up to acquireTimeoutMs) and
   * resolves once none is in use — every transaction under way has ended, as PgBouncer's PAUSE.
   */
  pause(): Promise<void> {
    this.paused = true;
    return new Promise((resolve) => {
      if (this.inUse === 0) return resolve();
      this.onDrained.push(resolve);
    });
  }

  /** Hands out connections again, first to those who waited. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const d of this.onDrained.splice(0)) d();
    for (const list of [...this.idle.values()]) {
      for (let b = list.at(-1); b && this.waiters.some((w) => w.startup.key === b!.startup.key); b = list.at(-1)) {
        list.pop();
        this.idleTotal--;
        this.nextWaiter(b.startup.key)!.cb(null, b);
      }
    }
    this.grow();
  }

  /** After a reload changed `options.max`: waiters a larger pool can serve get their connections. */
  limitsChanged(): void {
    this.grow();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The pools per database, user and parameter set, for the admin console's SHOW POOLS. */
  describe(): PoolRow[] {
    const rows = new Map<string, PoolRow>();
    const row = (st: BackendStartup) => {
      let r = rows.get(st.key);
      if (!r) {
        const database = st.login?.database ?? this.upstream.database;
        const user = st.login?.user ?? this.upstream.user;
        rows.set(st.key, (r = { key: st.key, database, user, params: st.params, active: 0, idle: 0, waiting: 0, connecting: this.connecting.get(st.key) ?? 0 }));
      }
      return r;
    };
    row(kNoParams);
    for (const b of this.all) row(b.startup).active++;
    for (const list of this.idle.values()) for (const b of list) {
      const r = row(b.startup);
      r.active--;
      r.idle++;
    }
    for (const w of this.waiters) if (!w.settled) row(w.startup).waiting++;
    return [...rows.values()];
  }

  /** Returns a clean connection (idle, no open transaction, nothing in flight). */
  release(b: Backend): void {
    b.owner = null;
    if (b.closed) return;
    if (this.closed) return b.terminate();
    if (b.cancelsInFlight > 0) {
      // A cancel sent for the last client's query has not landed yet: it must not reach the next one's.
      b.onCancelsDone = () => this.release(b);
      return;
    }
    const w = this.paused ? undefined : this.nextWaiter(b.startup.key);
    if (w) return w.cb(null, b);
    if (!this.paused && this.waiters.length > 0 && this.all.size + this.connectingTotal >= this.options.max) {
      // Others wait for a connection with their own parameters and there is no room: make it.
      debug('backend %d closed to make room for other startup parameters', b.id);
      this.forget(b);
      b.terminate();
      this.grow();
      return;
    }
    b.idleSince = Date.now();
    let list = this.idle.get(b.startup.key);
    if (!list) this.idle.set(b.startup.key, (list = []));
    list.push(b);
    this.idleTotal++;
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.paused && this.inUse === 0) for (const d of this.onDrained.splice(0)) d();
  }

  /** A connection the caller could not clean: closed, and replaced if someone waits. */
  discard(b: Backend): void {
    b.owner = null;
    b.destroy();
  }

  /**
   * Makes sure a backend with these parameters has connected once (so their ParameterStatus is
   * known); rejects with the server's own error when it refuses them (an invalid value, an unknown
   * parameter), as PostgreSQL refuses a direct connection.
   */
  warm(startup: BackendStartup = kNoParams): Promise<Map<string, string>> {
    const known = this.params.get(startup.key);
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      this.acquire((err, b) => {
        if (err || !b) return reject(err ?? ProxyErrors.UPSTREAM_CONNECT());
        this.release(b);
        resolve(this.params.get(startup.key) ?? new Map(b.params));
      }, startup);
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

  private popIdle(key: string): Backend | null {
    const list = this.idle.get(key);
    const b = list?.pop();
    if (!b) return null;
    this.idleTotal--;
    return b;
  }

  private grow(): void {
    if (this.closed || this.paused) return;
    // Waiters per key that no connection under way will serve, oldest waiter's key first.
    const missing = new Map<string, { startup: BackendStartup; n: number }>();
    for (const w of this.waiters) {
      const m = missing.get(w.startup.key);
      if (m) m.n++;
      else missing.set(w.startup.key, { startup: w.startup, n: 1 - (this.connecting.get(w.startup.key) ?? 0) });
    }
    for (const { startup, n } of missing.values()) {
      for (let i = 0; i < n; i++) {
        if (this.all.size + this.connectingTotal >= this.options.max && !this.evictIdle(startup.key)) return;
        this.connect(startup);
      }
    }
  }

  private connect(startup: BackendStartup): void {
    this.connecting.set(startup.key, (this.connecting.get(startup.key) ?? 0) + 1);
    this.connectingTotal++;
    const settled = () => {
      this.connectingTotal--;
      const n = this.connecting.get(startup.key)! - 1;
      if (n === 0) this.connecting.delete(startup.key);
      else this.connecting.set(startup.key, n);
    };
    // A pool of another database or user logs in as that one (same server).
    const config = startup.login ? { ...this.upstream, ...startup.login } : this.upstream;
    Backend.connect(config, this.options.connectTimeoutMs, this.options.maxMessageSize, startup).then(
      (b) => {
        settled();
        this.adopt(b);
        this.release(b);
      },
      (err: Error & { serverError?: unknown }) => {
        settled();
        this.connectErrors++;
        debug('backend connect failed: %s', err.message);
        if (err.serverError || ProxyErrors.UPSTREAM_AUTH.is(err)) {
          // The server refused these startup parameters (or the login), or the proxy has no
          // password for that login: every waiter for them gets its error now (a retry would fail alike).
          for (const w of this.waiters.filter((x) => x.startup.key === startup.key)) this.settle(w, err, null, true);
        } else if (this.all.size === 0) {
          // Without any connection the waiters would only time out: tell them now.
          const same = this.waiters.filter((x) => x.startup.key === startup.key);
          for (const w of same.slice(0, Math.max(1, same.length - (this.connecting.get(startup.key) ?? 0)))) this.settle(w, err, null, true);
        }
        this.grow();
      },
    );
  }

  /** Closes one idle connection of other parameters than `key` (the longest idle); false when there is none. */
  private evictIdle(key: string): boolean {
    let victim: Backend | null = null;
    for (const [k, list] of this.idle) {
      if (k !== key && list.length > 0 && (!victim || list[0].idleSince < victim.idleSince)) victim = list[0];
    }
    if (!victim) return false;
    debug('backend %d closed to make room for other startup parameters', victim.id);
    this.forget(victim);
    victim.terminate();
    return true;
  }

  /** Takes a connection out of the pool's books before closing it (its close must not grow the pool twice). */
  private forget(b: Backend): void {
    b.onClose = null;
    this.all.delete(b);
    this.removeIdle(b);
  }

  private removeIdle(b: Backend): void {
    const list = this.idle.get(b.startup.key);
    const i = list ? list.indexOf(b) : -1;
    if (i < 0) return;
    list!.splice(i, 1);
    this.idleTotal--;
    if (list!.length === 0 && b.startup.key !== '') this.idle.delete(b.startup.key);
  }

  private adopt(b: Backend): void {
    if (!this.params.has(b.startup.key)) {
      if (this.params.size >= kMaxRememberedKeys) this.forgetUnusedKeys();
      this.params.set(b.startup.key, new Map(b.params));
    }
    this.all.add(b);
    b.onClose = () => {
      this.all.delete(b);
      this.removeIdle(b);
      this.checkDrained();
      this.grow();
    };
  }

  /** Bounds what many distinct parameter sets leave behind: only keys with live connections are kept. */
  private forgetUnusedKeys(): void {
    const live = new Set([...this.all].map((b) => b.startup.key));
    for (const k of this.params.keys()) if (!live.has(k)) this.params.delete(k);
  }

  private nextWaiter(key: string): Waiter | undefined {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      if (w.settled) {
        this.waiters.splice(i--, 1);
        continue;
      }
      if (w.startup.key !== key) continue;
      this.waiters.splice(i, 1);
      w.settled = true;
      clearTimeout(w.timer);
      return w;
    }
    return undefined;
  }

  private settle(w: Waiter, err: Error | null, b: Backend | null, remove = false): void {
    if (w.settled) return;
    if (remove) {
      const i = this.waiters.indexOf(w);
      if (i >= 0) this.waiters.splice(i, 1);
    }
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
    for (const list of [...this.idle.values()]) {
      while (list.length > 0 && this.idleTotal > 1 && now - list[0].idleSince > this.options.idleTimeoutMs) {
        const b = list[0];
        this.removeIdle(b);
        b.terminate();
      }
    }
  }
}
