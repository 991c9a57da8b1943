/**
 * Glue from the agent's AgentControl to the controller: one getState() per period, auto mode only.
 */
import type { AgentControl } from '../state';
import type { AgentReading, ControllerOptions } from './controller';

export function controllerHooks(control: AgentControl, prewarm?: (workers: number) => void): Pick<ControllerOptions, 'read' | 'setRatio' | 'prewarm'> {
  return {
    read(): AgentReading {
      const s = control.getState();
      return { ratio: s.ratio, inFlight: s.totals.inFlight, p99Ms: s.totals.latency.p99, sloMs: s.sloMs, enabled: s.mode === 'auto', queued: s.totals.queued ?? 0 };
    },
    setRatio: (ratio) => control.setRatio(ratio),
    ...(prewarm ? { prewarm } : {}),
  };
}
