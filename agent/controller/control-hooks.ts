/**
 * Glue from the agent's AgentControl to the controller: one getState() per period, auto mode only.
 */
import type { AgentControl, HandlerStats } from '../state';
import type { AgentReading, ControllerOptions } from './controller';
import type { HandlerReading } from './handler-signals';

export interface ControllerHookOptions {
  /** Asks the provider to keep this many workers warm. */
  prewarm?: (workers: number) => void;
  /** Sets each handler's own ratio (the dispatcher reads it before the global one). */
  setHandlerRatios?: (ratios: Record<string, number>) => void;
  /** Most offloads the workers run at once (the local platform's BEEHIVE_WORKERS). Default Infinity. */
  workerSlots?: number;
}

/** The handlers whose ratio is the controller's to set: auto mode, selected, offloadable, not held. */
function controllable(h: HandlerStats): boolean {
  return h.mode === 'auto' && h.selected && !h.reason && h.phase !== 'held' && h.phase !== 'blocked';
}

export function toHandlerReading(h: HandlerStats): HandlerReading {
  return {
    id: h.id,
    local: h.local,
    offloaded: h.offloaded,
    reexecuted: h.reexecuted,
    retried: h.retried ?? 0,
    localMs: h.latency.local.p50,
    offloadMs: h.latency.offloaded.p50,
    controllable: controllable(h),
  };
}

export function controllerHooks(control: AgentControl, options: ControllerHookOptions | ((workers: number) => void) = {}): Pick<ControllerOptions, 'read' | 'setRatio' | 'prewarm' | 'setHandlerRatios'> {
  const o = typeof options === 'function' ? { prewarm: options } : options;
  return {
    read(): AgentReading {
      const s = control.getState();
      return {
        ratio: s.ratio,
        inFlight: s.totals.inFlight,
        p99Ms: s.totals.latency.p99,
        sloMs: s.sloMs,
        enabled: s.mode === 'auto',
        queued: s.totals.queued ?? 0,
        workerSlots: o.workerSlots ?? Infinity,
        workersStarting: (s.workers ?? []).filter((w) => w.state === 'starting').length,
        workersWarm: (s.workers ?? []).filter((w) => w.state !== 'starting').length,
        handlers: (s.handlers ?? []).map(toHandlerReading),
      };
    },
    setRatio: (ratio) => control.setRatio(ratio),
    ...(o.prewarm ? { prewarm: o.prewarm } : {}),
    ...(o.setHandlerRatios ? { setHandlerRatios: o.setHandlerRatios } : {}),
  };
}
