import { createHook } from 'node:async_hooks';
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { WorkerErrors } from './errors';

/**
 * The worker's world during an invocation (README, "What a worker may do"): what the handler leaves
 * pending is known, and I/O it does on its own behalf is either deferred to the server's commit
 * point or refuses the invocation, so that nothing happens on the worker that the server would not
 * see. One invocation at a time runs on a worker, so one guard is active at a time.
 */
export type Effect = ['writeFile' | 'appendFile', string, Uint8Array, { mode?: number; flag?: string }];

/** Timers up to this long that a handler leaves pending are waited for; longer ones refuse. */
export const LIFETIME_MAX_MS = 1000;

const REAL = { setImmediate, setTimeout, clearTimeout };
/** Set while the guard schedules its own waits: those are not the handler's. */
let internal = false;
function own<T>(fn: () => T): T {
  internal = true;
  try {
    return fn();
  } finally {
    internal = false;
  }
}
/** A turn of the event loop that the guard itself does not count as pending work. */
export const nextTurn = () => new Promise<void>((r) => own(() => REAL.setImmediate(r)));

interface Pending {
  type: string;
  resource: unknown;
  /** A timer longer than LIFETIME_MAX_MS or an interval: never waited for. */
  long: boolean;
}

/**
 * Async resources whose completion is part of the handler's work (requests, not long-lived handles
 * such as sockets). Crypto jobs are not among them: a synchronous `randomBytes(n)` creates one that
 * never calls back, and a handler that awaits an asynchronous one answers after it anyway.
 */
const WAITED = new Set(['Timeout', 'Immediate', 'FSREQCALLBACK', 'FSREQPROMISE', 'FILEHANDLECLOSEREQ', 'GETADDRINFOREQWRAP', 'GETNAMEINFOREQWRAP', 'QUERYWRAP', 'TickObject']);

export class WorldGuard {
  refusal?: Error;
  readonly effects: Effect[] = [];
  private readonly written = new Set<string>();
  private readonly allowed = new Set<string>();
  readonly pending = new Map<number, Pending>();
  private wake?: () => void;

  constructor(allow: Array<{ host: string; port: number }>) {
    for (const a of allow) this.allow(a.host, a.port);
  }

  allow(host: string, port: number): void {
    this.allowed.add(`${normHost(host)}:${port}`);
  }

  isAllowed(host: string, port: number): boolean {
    return this.allowed.has(`${normHost(host)}:${port}`);
  }

  /** Records the first reason and returns the error to throw at the call site. */
  refuse(reason: string): Error {
    const err = WorkerErrors.REFUSED(reason);
    this.refusal ??= err;
    return err;
  }

  defer(kind: 'writeFile' | 'appendFile', file: unknown, data: unknown, opts: unknown): void {
    if (typeof file !== 'string' && !(file instanceof URL) && !Buffer.isBuffer(file)) throw this.refuse(`fs.${kind} to a file descriptor: the file is on the worker`);
    const p = file instanceof URL ? fileURLPath(file) : String(file);
    const o = (typeof opts === 'string' ? { encoding: opts } : (opts ?? {})) as { encoding?: BufferEncoding; mode?: number; flag?: string; signal?: unknown };
    let bytes: Uint8Array;
    if (typeof data === 'string') bytes = Buffer.from(data, o.encoding ?? 'utf8');
    else if (ArrayBuffer.isView(data)) bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength).slice();
    else throw this.refuse(`fs.${kind} of a ${typeof data}: only strings and buffers are deferred to the server`);
    if (o.flag !== undefined && !['w', 'a', 'wx', 'ax'].includes(o.flag)) throw this.refuse(`fs.${kind} with flag '${o.flag}'`);
    this.effects.push([kind, p, bytes, { ...(o.mode !== undefined ? { mode: o.mode } : {}), ...(o.flag !== undefined ? { flag: o.flag } : {}) }]);
    this.written.add(path.resolve(p));
  }

  /** A read of a file this invocation wrote would see the worker's old copy: refused. */
  checkRead(api: string, file: unknown): void {
    if (this.written.size === 0 || (typeof file !== 'string' && !(file instanceof URL) && !Buffer.isBuffer(file))) return;
    const p = path.resolve(file instanceof URL ? fileURLPath(file) : String(file));
    for (const w of this.written) {
      if (w === p || w.startsWith(p + path.sep)) throw this.refuse(`fs.${api}('${String(file)}') after writing it: the write happens on the server at the commit`);
    }
  }

  /** Waits while short pending work (timers up to LIFETIME_MAX_MS, immediates, I/O requests) remains. */
  async settle(deadline: number): Promise<void> {
    for (;;) {
      // Microtasks and ticks first: promise chains schedule more work.
      await nextTurn();
      let short = 0;
      for (const [id, p] of this.pending) {
        if (cancelled(p)) this.pending.delete(id);
        else if (!p.long) short++;
      }
      if (short === 0) return;
      const left = deadline - performance.now();
      if (left <= 0) throw WorkerErrors.TIMEOUT(`work the handler left pending did not complete (${short} pending)`);
      await new Promise<void>((resolve) => {
        const t = own(() => REAL.setTimeout(() => resolve(), Math.min(left, 50)));
        this.wake = () => {
          REAL.clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** What remains is an interval or a long timer: refused, and cancelled so it never runs here. */
  finishPending(): void {
    for (const p of this.pending.values()) {
      const r = p.resource as { _repeat?: unknown; _idleTimeout?: number };
      if (p.type === 'Timeout' && !cancelled(p)) {
        this.refuse(r._repeat ? 'leaves an interval running after the response: it cannot run on a worker' : `leaves a ${r._idleTimeout} ms timer pending after the response (at most ${LIFETIME_MAX_MS} ms are waited for)`);
        clearTimeout(p.resource as NodeJS.Timeout);
      }
    }
    this.pending.clear();
  }

  onInit(id: number, type: string, resource: unknown): void {
    if (internal || !WAITED.has(type)) return;
    let long = false;
    if (type === 'Timeout') {
      const r = resource as { _repeat?: unknown; _idleTimeout?: number };
      long = !!r._repeat || (r._idleTimeout ?? 0) > LIFETIME_MAX_MS;
    }
    this.pending.set(id, { type, resource, long });
  }

  /**
   * A request's callback has run: it is done. An interval's callback runs again: it stays. Any
   * other callback may have cleared a pending timer: a waiting settle looks again.
   */
  onAfter(id: number): void {
    const p = this.pending.get(id);
    if (!p) {
      if (this.wake) for (const q of this.pending.values()) if (cancelled(q)) return this.wake();
      return;
    }
    if (p.type === 'Timeout' && (p.resource as { _repeat?: unknown })._repeat) return;
    this.pending.delete(id);
    this.wake?.();
  }
}

/**
 * A timer or immediate cleared before it ran: Node marks it `_destroyed` at once (clearTimeout,
 * clearInterval, clearImmediate), and one that ran is marked too. Read here instead of taking
 * async_hooks' `destroy` events: a destroy hook makes Node track every promise for its
 * collection (a weak handle per promise, and a callback per promise at each GC), which cost more
 * than anything else the world does per invocation. Every other waited resource ends with its
 * callback, seen by `after`.
 */
function cancelled(p: Pending): boolean {
  return (p.type === 'Timeout' || p.type === 'Immediate') && (p.resource as { _destroyed?: boolean })._destroyed === true;
}

const normHost = (h: string) => (h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1' ? '127.0.0.1' : h);
const fileURLPath = (u: URL) => decodeURIComponent(u.pathname);

let active: WorldGuard | undefined;
let installed = false;
const hook = createHook({
  init: (id, type, _trigger, resource) => active?.onInit(id, type, resource),
  after: (id) => active?.onAfter(id),
});

/** Runs `fn` with `guard` watching; the hooks cost nothing outside invocations. */
export async function withWorld<T>(guard: WorldGuard, fn: () => Promise<T>): Promise<T> {
  install();
  active = guard;
  hook.enable();
  try {
    return await fn();
  } finally {
    hook.disable();
    active = undefined;
  }
}

export function currentWorld(): WorldGuard | undefined {
  return active;
}

/** beehive.unguarded(fn) on a worker: fn runs with no guard (its I/O is the worker's own). */
(globalThis as Record<symbol, unknown>)[Symbol.for('beehive.world.unguarded')] = <T>(fn: () => T): T => {
  const was = active;
  active = undefined;
  try {
    return fn();
  } finally {
    active = was;
  }
};

type AnyFn = (...a: any[]) => any;

function wrap(obj: Record<string, unknown>, name: string, make: (orig: AnyFn) => AnyFn): void {
  const orig = obj[name];
  if (typeof orig !== 'function') return;
  const patched = make(orig as AnyFn);
  Object.defineProperty(patched, 'name', { value: name });
  obj[name] = patched;
}

const REFUSED_FS = [
  'mkdir', 'mkdtemp', 'rm', 'rmdir', 'unlink', 'rename', 'copyFile', 'cp', 'symlink', 'link', 'chmod', 'chown', 'lchown', 'lchmod',
  'utimes', 'lutimes', 'truncate',
];
// Writes to a file descriptor (fs.write, fsync...) are not listed: opening a file for writing is
// refused, so the only descriptors a handler can write to are the worker's own stdout and stderr.
const READS = ['readFile', 'existsSync', 'stat', 'lstat', 'access', 'readdir', 'opendir'];
const WRITE_FLAGS = /[wa+]/;

/**
 * Patches the APIs once, before the first invocation decodes anything: a package loaded for a
 * handler that keeps a reference (`var writeFile = fs.writeFileSync` in lowdb) keeps the watched one.
 */
export function installWorld(): void {
  install();
}

function install(): void {
  if (installed) return;
  installed = true;
  const f = fs as unknown as Record<string, unknown>;
  const fp = fs.promises as unknown as Record<string, unknown>;
  for (const name of REFUSED_FS) {
    for (const [o, n, label] of [[f, name, name], [f, `${name}Sync`, `${name}Sync`], [fp, name, `promises.${name}`]] as const) {
      wrap(o, n, (orig) => function (this: unknown, ...a: unknown[]) {
        if (active) throw active.refuse(`fs.${label}() changes the worker's disk, which the server never sees`);
        return orig.apply(this, a);
      });
    }
  }
  for (const kind of ['writeFile', 'appendFile'] as const) {
    wrap(f, `${kind}Sync`, (orig) => function (this: unknown, file: unknown, data: unknown, opts?: unknown) {
      if (!active) return orig.call(this, file, data, opts);
      active.defer(kind, file, data, opts);
    });
    wrap(f, kind, (orig) => function (this: unknown, ...a: unknown[]) {
      if (!active) return orig.apply(this, a);
      const cb = a[a.length - 1];
      if (typeof cb !== 'function') throw new TypeError('The "cb" argument must be of type function');
      active.defer(kind, a[0], a[1], a.length > 3 ? a[2] : undefined);
      process.nextTick(() => (cb as (e: null) => void)(null));
    });
    wrap(fp, kind, (orig) => async function (this: unknown, ...a: unknown[]) {
      if (!active) return orig.apply(this, a);
      active.defer(kind, a[0], a[1], a[2]);
    });
  }
  for (const name of ['open', 'openSync', 'createWriteStream']) {
    wrap(f, name, (orig) => function (this: unknown, file: unknown, flags?: unknown, ...rest: unknown[]) {
      const fl = typeof flags === 'string' ? flags : (flags as { flags?: string } | undefined)?.flags;
      if (active && (name === 'createWriteStream' || (typeof fl === 'string' && WRITE_FLAGS.test(fl)) || typeof flags === 'number')) {
        throw active.refuse(`fs.${name}('${String(file)}'${fl ? `, '${fl}'` : ''}) writes on the worker's disk`);
      }
      if (active) active.checkRead(name, file);
      return orig.call(this, file, flags, ...rest);
    });
  }
  wrap(fp, 'open', (orig) => async function (this: unknown, file: unknown, flags?: unknown, ...rest: unknown[]) {
    if (active && typeof flags === 'string' && WRITE_FLAGS.test(flags)) throw active.refuse(`fs.promises.open('${String(file)}', '${flags}') writes on the worker's disk`);
    return orig.call(this, file, flags, ...rest);
  });
  for (const name of READS) {
    for (const [o, n, label] of [[f, name, name], [f, `${name}Sync`, `${name}Sync`], [fp, name, `promises.${name}`]] as const) {
      wrap(o, n, (orig) => function (this: unknown, ...a: unknown[]) {
        if (active) active.checkRead(label, a[0]);
        return orig.apply(this, a);
      });
    }
  }
  const cp = childProcess as unknown as Record<string, unknown>;
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
    wrap(cp, name, (orig) => function (this: unknown, ...a: unknown[]) {
      if (active) throw active.refuse(`child_process.${name}() starts a process on the worker`);
      return orig.apply(this, a);
    });
  }
  wrap(dgram as unknown as Record<string, unknown>, 'createSocket', (orig) => function (this: unknown, ...a: unknown[]) {
    if (active) throw active.refuse('dgram.createSocket(): outbound network from the worker');
    return orig.apply(this, a);
  });
  const sp = net.Socket.prototype as unknown as Record<string, unknown>;
  wrap(sp, 'connect', (orig) => function (this: unknown, ...a: unknown[]) {
    if (active) {
      const o = (Array.isArray(a[0]) ? a[0][0] : a[0]) as { port?: unknown; host?: string; path?: string } | number | string;
      let host = 'localhost';
      let port: number | undefined;
      if (typeof o === 'object' && o) {
        if (o.path) throw active.refuse(`connects to the local socket ${o.path} on the worker`);
        host = o.host ?? 'localhost';
        port = Number(o.port);
      } else if (typeof o === 'number' || /^\d+$/.test(String(o))) {
        port = Number(o);
        if (typeof a[1] === 'string') host = a[1];
      } else throw active.refuse(`connects to the local socket ${String(o)} on the worker`);
      if (!active.isAllowed(host, port)) throw active.refuse(`outbound connection to ${host}:${port} (only the channel and the database proxy are reachable from a worker)`);
    }
    return orig.apply(this, a);
  });
  const pr = process as unknown as Record<string, unknown>;
  // process.exit() and abort() are not here: they end the worker, which is a crash, and the request
  // runs again on the server like any other crashed invocation.
  for (const name of ['kill', 'chdir', 'setuid', 'setgid', 'seteuid', 'setegid', 'setgroups', 'umask']) {
    wrap(pr, name, (orig) => function (this: unknown, ...a: unknown[]) {
      // umask() reads; kill of the worker's own pid ends the worker, a crash like exit().
      if (active && !(name === 'umask' && a.length === 0) && !(name === 'kill' && Number(a[0]) === process.pid)) throw active.refuse(`process.${name}() acts on the worker's process`);
      return orig.apply(this, a);
    });
  }
}
