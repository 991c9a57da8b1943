/**
 * The instances of one emulated function: warm reuse (most recently used first, so surplus
 * instances idle out), an idle timeout that reaps them, a concurrency limit beyond which the
 * platform throttles, and replacement of crashed instances on the next request.
 */
import type { EventEmitter } from 'node:events';
import { Instance, type InstanceConfig, type RunReport } from './instance';
import type { InvokeMessage } from './ipc';

export interface FunctionConfig extends InstanceConfig {
  name: string;
  /** Per-invocation time limit. */
  timeoutMs: number;
  /** Most instances busy at once; one more request is throttled. */
  concurrency: number;
  /** An instance idle this long is stopped. */
  idleTimeoutMs: number;
  /** Told when an instance starts and when its process is gone (reaped, crashed, killed). */
  events?: EventEmitter;
}

export type PoolRun =
  | ({ throttled: false; cold: boolean; initMs: number; instance: Instance; initError?: undefined } & RunReport)
  | { throttled: false; cold: true; initMs: number; instance: Instance; initError: { errorType: string; errorMessage: string; trace: string[] } }
  | { throttled: true };

export interface PoolStats {
  instances: number;
  busy: number;
  coldStarts: number;
  invocations: number;
  throttles: number;
}

export class FunctionPool {
  readonly cfg: FunctionConfig;
  private instances = new Set<Instance>();
  private idle: Instance[] = [];
  private idleTimers = new Map<Instance, NodeJS.Timeout>();
  private counters = { coldStarts: 0, invocations: 0, throttles: 0 };

  constructor(cfg: FunctionConfig) {
    this.cfg = cfg;
  }

  /** Runs `msg` on a warm instance, a new one, or answers throttled at the concurrency limit. */
  async run(msg: InvokeMessage): Promise<PoolRun> {
    let inst = this.takeIdle();
    const cold = !inst;
    if (!inst) {
      if (this.instances.size >= this.cfg.concurrency) {
        this.counters.throttles += 1;
        return { throttled: true };
      }
      inst = this.spawn();
      this.counters.coldStarts += 1;
      inst.state = 'busy';
      try {
        await withTimeout(inst.ready, Math.max(this.cfg.timeoutMs, 10_000));
      } catch (err) {
        inst.kill();
        const e = err as Error & { errorType?: string; trace?: string[] };
        return { throttled: false, cold: true, initMs: inst.initMs, instance: inst, initError: { errorType: e.errorType ?? 'Runtime.InitError', errorMessage: e.message, trace: e.trace ?? [] } };
      }
    }
    this.counters.invocations += 1;
    const report = await inst.run(msg, this.cfg.timeoutMs);
    if (inst.state === 'dead') this.instances.delete(inst);
    else this.release(inst);
    return { throttled: false, cold, initMs: cold ? inst.initMs : 0, instance: inst, ...report };
  }

  /** Starts instances ahead of demand (provisioned concurrency), up to the limit. */
  async provision(n: number): Promise<void> {
    const started: Instance[] = [];
    while (started.length < n && this.instances.size < this.cfg.concurrency) started.push(this.spawn());
    await Promise.allSettled(started.map((i) => i.ready.then(() => this.release(i))));
  }

  stats(): PoolStats {
    let busy = 0;
    for (const i of this.instances) if (i.state === 'busy' || i.state === 'starting') busy += 1;
    return { instances: this.instances.size, busy, ...this.counters };
  }

  close(): void {
    for (const t of this.idleTimers.values()) clearTimeout(t);
    this.idleTimers.clear();
    for (const i of this.instances) i.kill();
    this.instances.clear();
    this.idle = [];
  }

  private spawn(): Instance {
    const inst = new Instance(this.cfg);
    this.instances.add(inst);
    this.cfg.events?.emit('instance-start', { function: this.cfg.name, id: inst.id, pid: inst.pid });
    inst.whenDead(() => {
      this.cfg.events?.emit('instance-exit', { function: this.cfg.name, id: inst.id, pid: inst.pid });
      this.instances.delete(inst);
      this.idle = this.idle.filter((i) => i !== inst);
      const t = this.idleTimers.get(inst);
      if (t) clearTimeout(t);
      this.idleTimers.delete(inst);
    });
    return inst;
  }

  private takeIdle(): Instance | undefined {
    while (this.idle.length) {
      const inst = this.idle.pop()!;
      clearTimeout(this.idleTimers.get(inst));
      this.idleTimers.delete(inst);
      if (inst.state === 'idle') {
        inst.state = 'busy';
        return inst;
      }
    }
    return undefined;
  }

  private release(inst: Instance): void {
    if (inst.state === 'dead') return;
    inst.state = 'idle';
    this.idle.push(inst);
    const timer = setTimeout(() => inst.kill(), this.cfg.idleTimeoutMs);
    timer.unref();
    this.idleTimers.set(inst, timer);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(Object.assign(new Error(`init did not finish in ${ms} ms`), { errorType: 'Runtime.InitTimeout' })), ms);
    p.then((v) => (clearTimeout(t), resolve(v)), (e) => (clearTimeout(t), reject(e)));
  });
}
