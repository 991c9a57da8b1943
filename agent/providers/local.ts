import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { defineErrors, type InvocationEvent, type InvocationResult, type Provider, type ProviderStats } from '../../protocol';

export const LocalErrors = defineErrors('LOCAL', {
  TIMEOUT: 'local worker timed out',
  CRASH: 'local worker exited during the invocation',
  CLOSED: 'local provider is closed',
  MALFORMED_RESPONSE: 'local worker answered something that is not an invocation result',
});

export interface LocalProviderOptions {
  /** Maximum worker processes. Default: 2. */
  workers: number;
  /** Extra environment for the workers (the app's root, for module resolution). */
  env?: NodeJS.ProcessEnv;
  /** Node flags for the workers. */
  execArgv?: string[];
}

interface Slot {
  id: string;
  child: ChildProcess;
  state: 'starting' | 'idle' | 'busy';
  invocations: number;
  ready: Promise<void>;
  current?: { id: number; resolve: (r: InvocationResult) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
}

/**
 * The local platform: a pool of worker processes on this machine, each running one invocation at a
 * time like a Lambda instance; warm reuse, a cold start (fork + init) when none is idle, waiting in
 * line when all are busy and the pool is full. A worker that dies is replaced on demand.
 */
export class LocalProvider implements Provider {
  readonly name = 'local' as const;
  readonly maxPayloadBytes = 64 * 1024 * 1024;
  private readonly slots: Slot[] = [];
  private readonly waiting: Array<(s: Slot) => void> = [];
  private seq = 0;
  private reqSeq = 0;
  private closed = false;
  private readonly counters = { invocations: 0, cold: 0, warm: 0, failures: {} as Record<string, number>, billedMs: 0 };

  constructor(private readonly opts: LocalProviderOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError('options.workers must be a positive integer');
  }

  async invoke(event: InvocationEvent, { timeoutMs }: { timeoutMs: number }): Promise<InvocationResult> {
    if (this.closed) throw LocalErrors.CLOSED();
    const slot = await this.acquire();
    const t0 = performance.now();
    this.counters.invocations++;
    if (slot.invocations === 0) this.counters.cold++;
    else this.counters.warm++;
    slot.invocations++;
    try {
      return await new Promise<InvocationResult>((resolve, reject) => {
        const id = ++this.reqSeq;
        const timer = setTimeout(() => {
          this.fail('timeout');
          reject(Object.assign(LocalErrors.TIMEOUT(`${timeoutMs} ms`), { kind: 'timeout' }));
          slot.current = undefined;
          // A worker stuck in a loop cannot be trusted with the next request.
          this.retire(slot);
        }, timeoutMs);
        slot.current = { id, resolve, reject, timer };
        slot.child.send({ type: 'invoke', id, event });
      });
    } finally {
      this.counters.billedMs += Math.ceil(performance.now() - t0);
      if (!slot.child.killed && slot.child.connected && this.slots.includes(slot)) this.releaseSlot(slot);
    }
  }

  private fail(kind: string): void {
    this.counters.failures[kind] = (this.counters.failures[kind] ?? 0) + 1;
  }

  private acquire(): Promise<Slot> {
    const idle = this.slots.find((s) => s.state === 'idle');
    if (idle) {
      idle.state = 'busy';
      return Promise.resolve(idle);
    }
    if (this.slots.length < this.opts.workers) {
      const s = this.spawn();
      s.state = 'busy';
      return s.ready.then(() => s);
    }
    return new Promise<Slot>((resolve) => this.waiting.push(resolve));
  }

  private releaseSlot(s: Slot): void {
    const next = this.waiting.shift();
    if (next) {
      s.state = 'busy';
      next(s);
    } else s.state = 'idle';
  }

  private spawn(): Slot {
    const id = `local-${++this.seq}`;
    // Workers must not load the agent themselves: drop -r/--import of beehive from NODE_OPTIONS.
    const nodeOptions = (process.env.NODE_OPTIONS ?? '').replace(/(?:-r|--require|--import)[ =]\S*beehive\S*/g, '').trim();
    const child = fork(path.join(__dirname, '../../offload-worker/local-entry.js'), [], {
      execArgv: this.opts.execArgv ?? [],
      env: { ...process.env, ...this.opts.env, NODE_OPTIONS: nodeOptions, BEEHIVE_WORKER_ID: id, BEEHIVE_ROLE: 'worker' },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let onReady!: () => void;
    const slot: Slot = { id, child, state: 'starting', invocations: 0, ready: new Promise<void>((r) => (onReady = r)) };
    child.on('message', (m: { type?: string; id?: number; result?: InvocationResult }) => {
      if (m?.type === 'ready') return onReady();
      if (m?.type !== 'result' || !slot.current || m.id !== slot.current.id) return;
      const cur = slot.current;
      slot.current = undefined;
      clearTimeout(cur.timer);
      if (!m.result || typeof m.result !== 'object' || typeof m.result.ok !== 'boolean') {
        this.fail('malformed');
        return cur.reject(Object.assign(LocalErrors.MALFORMED_RESPONSE(), { kind: 'platform' }));
      }
      cur.resolve(m.result);
    });
    child.on('exit', (code, signal) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      onReady();
      if (slot.current) {
        clearTimeout(slot.current.timer);
        this.fail('crash');
        slot.current.reject(Object.assign(LocalErrors.CRASH(`exit ${code ?? signal}`), { kind: 'crash' }));
        slot.current = undefined;
      }
      // Someone waiting for a slot gets a fresh worker instead of this one.
      if (this.waiting.length && !this.closed) {
        const s = this.spawn();
        s.state = 'busy';
        const next = this.waiting.shift()!;
        void s.ready.then(() => next(s));
      }
    });
    // The pool must never keep the app alive on its own.
    child.unref();
    (child as unknown as { channel?: { unref(): void } }).channel?.unref();
    this.slots.push(slot);
    return slot;
  }

  private retire(s: Slot): void {
    const i = this.slots.indexOf(s);
    if (i >= 0) this.slots.splice(i, 1);
    s.child.kill('SIGKILL');
  }

  async prewarm(n: number): Promise<void> {
    const want = Math.min(n, this.opts.workers) - this.slots.length;
    const started: Slot[] = [];
    for (let i = 0; i < want; i++) {
      const s = this.spawn();
      started.push(s);
      void s.ready.then(() => {
        if (s.state === 'starting') this.releaseSlot(s);
      });
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
      queued: this.waiting.length,
    } as ProviderStats;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots.splice(0)) s.child.kill();
  }
}
