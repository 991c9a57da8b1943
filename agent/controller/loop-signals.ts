/**
 * Event-loop saturation of this process, per control period: utilisation from
 * `performance.eventLoopUtilization()` deltas and delay p99 from `monitorEventLoopDelay`, reset at
 * each read so every period stands on its own.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopSignals {
  /** ELU and delay p99 (ms) since the previous read. */
  read(): { elu: number; loopDelayP99Ms: number };
  close(): void;
}

export function watchEventLoop(resolutionMs = 10): LoopSignals {
  const delay: IntervalHistogram = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return {
    read() {
      const now = performance.eventLoopUtilization();
      const elu = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      // The histogram counts the timer's lateness beyond its resolution; empty means no delay seen.
      const p99 = delay.count > 0 ? delay.percentile(99) / 1e6 : 0;
      delay.reset();
      return { elu: Number.isFinite(elu) ? elu : 0, loopDelayP99Ms: Number.isFinite(p99) ? p99 : 0 };
    },
    close() {
      delay.disable();
    },
  };
}
