/**
 * Bookkeeping shared by the FaaS providers: invocation counts (cold/warm), failures by kind, the
 * worker instances seen, billing totals; and the check that a worker's answer is an
 * InvocationResult for the invocation we sent.
 */
import { INVOCATION_VERSION, type InvocationEvent, type InvocationResult, type InvokeFailureKind, type ProviderStats, type InvocationBilling } from '../../protocol';
import { CostMeter, type CostPlatform, type Prices } from './cost';

export class FaasStats {
  readonly meter: CostMeter;
  private invocations = 0;
  private cold = 0;
  private warm = 0;
  private failures: Record<string, number> = {};
  private workers = new Map<string, { id: string; invocations: number; pid?: number }>();

  constructor(platform: CostPlatform, prices?: Partial<Prices>) {
    this.meter = new CostMeter(platform, prices);
  }

  /** A worker answered (successfully or with a function error). */
  completed(cold: boolean, worker?: InvocationResult['worker']): void {
    this.invocations += 1;
    if (cold) this.cold += 1;
    else this.warm += 1;
    if (worker?.id) {
      const w = this.workers.get(worker.id) ?? { id: worker.id, invocations: 0, pid: worker.pid };
      w.invocations += 1;
      this.workers.set(worker.id, w);
      // Remote instances come and go without telling us: keep the most recent ones only.
      if (this.workers.size > 256) this.workers.delete(this.workers.keys().next().value!);
    }
  }

  failed(kind: InvokeFailureKind): void {
    this.failures[kind] = (this.failures[kind] ?? 0) + 1;
  }

  bill(billedMs: number, memoryMB: number): InvocationBilling {
    return this.meter.record(billedMs, memoryMB);
  }

  snapshot(): ProviderStats {
    const cost = this.meter.summary();
    return {
      invocations: this.invocations,
      cold: this.cold,
      warm: this.warm,
      failures: { ...this.failures },
      billedMs: cost.billedMs,
      gbSeconds: cost.gbSeconds,
      cost,
      workers: [...this.workers.values()].map((w) => ({ ...w, state: 'idle' as const })),
    };
  }
}

/** Whether `value` is a well-formed result for `event` (a worker's garbage must not reach the agent). */
export function isResultFor(value: unknown, event: InvocationEvent): value is InvocationResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const r = value as Partial<InvocationResult>;
  if (r.beehive !== INVOCATION_VERSION || r.inv !== event.inv || typeof r.ok !== 'boolean') return false;
  if (r.ok && r.outcome !== undefined && typeof r.outcome !== 'string') return false;
  if (!r.ok && (typeof r.error !== 'object' || r.error === null || typeof r.error.code !== 'string')) return false;
  return true;
}

/** The JSON text of an event and its size, to check against the payload limit before sending. */
export function encodeEvent(event: InvocationEvent): { text: string; bytes: number } {
  const text = JSON.stringify(event);
  return { text, bytes: Buffer.byteLength(text) };
}

export { WARMUP_EVENT } from '../../protocol';
