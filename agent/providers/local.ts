import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { workerNodeOptions } from './node-options';
import { defineErrors, type InvocationEvent, type InvocationResult, type Provider, type ProviderStats } from '../../protocol';
import { ProviderOptionErrors } from './option-errors';

export const LocalErrors = defineErrors('LOCAL', {
  TIMEOUT: ['BEEHIVE_ERR_LOCAL_TIMEOUT', 'local worker timed out'],
  CRASH: ['BEEHIVE_ERR_LOCAL_CRASH', 'local worker exited during the invocation'],
  CLOSED: ['BEEHIVE_ERR_LOCAL_CLOSED', 'local provider is closed'],
  MALFORMED_RESPONSE: ['BEEHIVE_ERR_LOCAL_MALFORMED_RESPONSE', 'local worker answered something that is not an invocation result'],
  START: ['BEEHIVE_ERR_LOCAL_START', 'local worker exited or was stopped before it was ready'],
  SEND: ['BEEHIVE_ERR_LOCAL_SEND', 'the invocation could not be sent to the local worker'],
});

export interface LocalProviderOptions {
  /** Maximum worker processes. Default: 2. */
  workers: number;
  /** Extra environment for the workers (the app's root, for module resolution). */
  env?: NodeJS.ProcessEnv;
  /** Node flags for the workers. */
  execArgv?: string[];
  /**
   * A worker not ready this long after its fork is killed (a stopped or wedged start must not hold
   * a pool slot for good). Requests waiting for it are bounded by their own deadlines. Default 30 s.
   */
  startTimeoutMs?: number;
  /**
   * At most this many workers start at once. Default: the machine's available parallelism. A
   * worker's start is ~200 ms of CPU (Node's boot and module loading); 16 forked together on 2
   * cores were all ready only after 3.7-4.7 s, where 2 at a time had the first two ready after
   * 0.6 s, and each one ready takes the next job in line while the others start.
   */
  startConcurrency?: number;
}

/** One invoke: waits in line for a worker, then runs on one; settles exactly once. */
interface Job {
  id: number;
  event: InvocationEvent;
  resolve: (r: InvocationResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  done: boolean;
  slot?: Slot;
  t0: number;
}

interface Slot {
  id: string;
  child: ChildProcess;
  state: 'starting' | 'idle' | 'busy';
  invocations: number;
  /** Resolves when the worker is ready, or when it is gone (then `state` says it never was). */
  ready: Promise<void>;
  onReady: () => void;
  /** The job whose arrival forked this worker: told at once if the worker dies starting. */
  startedFor?: Job;
  startTimer?: NodeJS.Timeout;
  job?: Job;
  gone: boolean;
}

/**
 * The local platform: a pool of worker processes on this machine, each running one invocation at a
 * time like a Lambda instance; warm reuse, a cold start (fork + init) when none is idle, waiting in
 * line when all are busy and the pool is full. A worker that dies is replaced on demand.
 *
 * Every invoke is bounded by its `timeoutMs` from the moment it is called, covering the wait in
 * line and the worker's start: the app never waits on a worker that is stopped, wedged or dead.
 * Every IPC failure (a send to a worker that has just died, an 'error' on the child) ends the
 * invocation on that worker with a coded error instead of escaping into the app.
 */
export class LocalProvider implements Provider {
  readonly name = 'local' as const;
  readonly maxPayloadBytes = 64 * 1024 * 1024;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private seq = 0;
  private reqSeq = 0;
  private closed = false;
  private readonly startTimeoutMs: number;
  private readonly startConcurrency: number;
  private readonly counters = { invocations: 0, cold: 0, warm: 0, failures: {} as Record<string, number>, billedMs: 0 };

  constructor(private readonly opts: LocalProviderOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw ProviderOptionErrors.OPTION_RANGE('options.workers must be a positive integer');
    this.startTimeoutMs = opts.startTimeoutMs ?? 30_000;
    if (!(this.startTimeoutMs > 0)) throw ProviderOptionErrors.OPTION_RANGE('options.startTimeoutMs must be a positive number');
    this.startConcurrency = opts.startConcurrency ?? Math.max(1, os.availableParallelism());
    if (!Number.isInteger(this.startConcurrency) || this.startConcurrency < 1) throw ProviderOptionErrors.OPTION_RANGE('options.startConcurrency must be a positive integer');
  }

  invoke(event: InvocationEvent, { timeoutMs }: { timeoutMs: number }): Promise<InvocationResult> {
    if (this.closed) return Promise.reject(Object.assign(LocalErrors.CLOSED(), { kind: 'platform' }));
    return new Promise<InvocationResult>((resolve, reject) => {
      const job: Job = { id: ++this.reqSeq, event, resolve, reject, done: false, t0: 0, timer: undefined as unknown as NodeJS.Timeout };
      job.timer = setTimeout(() => this.expire(job, timeoutMs), timeoutMs);
      this.queue.push(job);
      this.pump();
    });
  }

  /**
   * Hands queued jobs to idle workers, forking one per job that no starting worker will take, at
   * most `startConcurrency` starting at once (the rest wait for the first worker ready).
   */
  private pump(): void {
    if (this.closed) return;
    while (this.queue.length > 0) {
      const idle = this.slots.find((s) => s.state === 'idle');
      if (idle) {
        this.run(idle, this.queue.shift()!);
        continue;
      }
      const starting = this.slots.filter((s) => s.state === 'starting').length;
      if (this.queue.length > starting && this.slots.length < this.opts.workers && starting < this.startConcurrency) {
        this.spawn(this.queue[starting]);
        continue;
      }
      return;
    }
  }

  private run(slot: Slot, job: Job): void {
    slot.state = 'busy';
    slot.job = job;
    job.slot = slot;
    job.t0 = performance.now();
    this.counters.invocations++;
    if (slot.invocations === 0) this.counters.cold++;
    else this.counters.warm++;
    slot.invocations++;
    const sendFailed = (err: unknown) => {
      this.fail('crash');
      this.settle(job, Object.assign(LocalErrors.SEND(String((err as Error)?.message ?? err)), { kind: 'crash' }));
      this.retire(slot);
    };
    if (!slot.child.connected) return sendFailed('the IPC channel is closed');
    try {
      // The callback receives EPIPE / ERR_IPC_CHANNEL_CLOSED of a worker that died just now.
      slot.child.send({ type: 'invoke', id: job.id, event: job.event }, (err) => {
        if (err && slot.job === job) sendFailed(err);
      });
    } catch (err) {
      sendFailed(err);
    }
  }

  /** Settles a job once: the result or error, its timer cleared, its slot freed of it. */
  private settle(job: Job, err: Error | undefined, result?: InvocationResult): void {
    if (job.done) return;
    job.done = true;
    clearTimeout(job.timer);
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    if (job.slot) {
      this.counters.billedMs += Math.ceil(performance.now() - job.t0);
      if (job.slot.job === job) job.slot.job = undefined;
    }
    if (err) job.reject(err);
    else job.resolve(result!);
  }

  private expire(job: Job, timeoutMs: number): void {
    if (job.done) return;
    this.fail('timeout');
    const slot = job.slot;
    const where = slot ? 'running' : 'waiting for a worker';
    this.settle(job, Object.assign(LocalErrors.TIMEOUT(`${timeoutMs} ms (${where})`), { kind: 'timeout' }));
    // A worker stuck in a loop (or stopped) cannot be trusted with the next request.
    if (slot) this.retire(slot);
  }

  private fail(kind: string): void {
    this.counters.failures[kind] = (this.counters.failures[kind] ?? 0) + 1;
  }

  private spawn(startedFor?: Job): Slot {
    const id = `local-${++this.seq}`;
    // Workers must not load the agent themselves; the app's other preloads stay.
    const nodeOptions = workerNodeOptions(process.env.NODE_OPTIONS);
    const child = fork(path.join(__dirname, '../../offload-worker/local-entry.js'), [], {
      execArgv: this.opts.execArgv ?? [],
      env: { ...process.env, ...this.opts.env, NODE_OPTIONS: nodeOptions, BEEHIVE_WORKER_ID: id, BEEHIVE_ROLE: 'worker' },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let onReady!: () => void;
    const ready = new Promise<void>((r) => (onReady = r));
    const slot: Slot = { id, child, state: 'starting', invocations: 0, ready, onReady, startedFor, gone: false };
    slot.startTimer = setTimeout(() => {
      if (slot.state !== 'starting') return;
      this.fail('start');
      this.retire(slot);
    }, this.startTimeoutMs);
    slot.startTimer.unref();
    child.on('message', (m: { type?: string; id?: number; result?: InvocationResult }) => {
      if (m?.type === 'ready') {
        if (slot.state !== 'starting' || slot.gone) return;
        clearTimeout(slot.startTimer);
        slot.state = 'idle';
        slot.startedFor = undefined;
        onReady();
        return this.pump();
      }
      const job = slot.job;
      if (m?.type !== 'result' || !job || m.id !== job.id) return;
      if (!m.result || typeof m.result !== 'object' || typeof m.result.ok !== 'boolean') {
        this.fail('malformed');
        this.settle(job, Object.assign(LocalErrors.MALFORMED_RESPONSE(), { kind: 'platform' }));
      } else this.settle(job, undefined, m.result);
      if (!slot.gone) {
        slot.state = 'idle';
        this.pump();
      }
    });
    // Without a listener an IPC error would be thrown into the app.
    child.on('error', () => this.retire(slot));
    child.on('exit', (code, signal) => this.gone(slot, `exit ${code ?? signal}`));
    // The pool must never keep the app alive on its own.
    child.unref();
    (child as unknown as { channel?: { unref(): void } }).channel?.unref();
    this.slots.push(slot);
    return slot;
  }

  /** A worker that is gone: its invocation (or the job it was started for) fails now. */
  private gone(slot: Slot, why: string): void {
    // Retired by the pool: what it had was settled then.
    if (slot.gone) return this.pump();
    const wasStarting = slot.state === 'starting';
    this.remove(slot);
    if (slot.job) {
      this.fail('crash');
      this.settle(slot.job, Object.assign(LocalErrors.CRASH(why), { kind: 'crash' }));
    } else if (wasStarting) {
      const waiting = this.waitingFor(slot);
      if (waiting) {
        this.fail('start');
        this.settle(waiting, Object.assign(LocalErrors.START(why), { kind: 'crash' }));
      }
    }
    // Whoever still waits gets a fresh worker.
    this.pump();
  }

  /**
   * The job a starting worker would have served: the one it was forked for if that one still waits,
   * else the first in line that no other starting worker was forked for (a prewarmed worker).
   */
  private waitingFor(slot: Slot): Job | undefined {
    if (waitsInLine(slot.startedFor)) return slot.startedFor;
    const claimed = new Set(this.slots.filter((s) => s.state === 'starting').map((s) => s.startedFor));
    return this.queue.find((j) => !claimed.has(j));
  }

  private remove(slot: Slot): void {
    if (slot.gone) return;
    slot.gone = true;
    clearTimeout(slot.startTimer);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    slot.onReady();
  }

  /** Kills a worker (SIGKILL also ends a stopped one); its 'exit' settles what it still had. */
  private retire(s: Slot): void {
    const wasStarting = s.state === 'starting';
    this.remove(s);
    try {
      s.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
    if (s.job) {
      this.fail('crash');
      this.settle(s.job, Object.assign(LocalErrors.CRASH('the worker was killed'), { kind: 'crash' }));
    } else if (wasStarting) {
      const waiting = this.waitingFor(s);
      if (waiting) this.settle(waiting, Object.assign(LocalErrors.START('the worker did not start in time'), { kind: 'crash' }));
    }
    this.pump();
  }

  /** Starts workers up to `n` in all, `startConcurrency` at a time; one that fails to start is not retried here. */
  async prewarm(n: number): Promise<void> {
    let want = Math.min(n, this.opts.workers) - this.slots.length;
    const started: Slot[] = [];
    while (want > 0 && !this.closed && this.slots.length < this.opts.workers) {
      const starting = this.slots.filter((s) => s.state === 'starting');
      if (starting.length >= this.startConcurrency) {
        await Promise.race(starting.map((s) => s.ready));
        continue;
      }
      started.push(this.spawn());
      want--;
    }
    await Promise.all(started.map((s) => s.ready));
  }

  /** For tests and fault drills: the worker processes. */
  pids(): number[] {
    return this.slots.map((s) => s.child.pid!).filter(Boolean);
  }

  stats(): ProviderStats {
    return {
      invocations: this.counters.invocations,
      cold: this.counters.cold,
      warm: this.counters.warm,
      failures: { ...this.counters.failures },
      billedMs: this.counters.billedMs,
      gbSeconds: 0,
      workers: this.slots.map((s) => ({ id: s.id, state: s.state, invocations: s.invocations, pid: s.child.pid })),
      queued: this.queue.length,
    } as ProviderStats;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of [...this.queue]) this.settle(j, Object.assign(LocalErrors.CLOSED(), { kind: 'platform' }));
    for (const s of [...this.slots]) {
      this.remove(s);
      s.child.kill();
      if (s.job) this.settle(s.job, Object.assign(LocalErrors.CLOSED(), { kind: 'platform' }));
    }
  }
}

/** A job still waiting for a worker (not running on another one, not settled). */
function waitsInLine(job: Job | undefined): boolean {
  return !!job && !job.done && !job.slot;
}
