/**
 * The burst controller at run time: every period it reads the event loop and the agent, turns the
 * agent's counters into the period's signals, decides, and applies the ratios and the pre-warm
 * request. It emits 'decision' after each period (tests, the dashboard and traces wait on it) and
 * never lets a hook's failure reach the server.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { decide, initialDecision, validateDecisionOptions, type ControllerSignals, type Decision, type DecisionOptions } from './decide';
import { handlerSignals, type HandlerReading } from './handler-signals';
import { watchEventLoop } from './loop-signals';
import { ControllerErrors } from './errors';

export interface AgentReading {
  /** The global ratio in force now. */
  ratio: number;
  inFlight: number;
  /** Request latency p99 over the last period, ms; 0 when unknown. */
  p99Ms: number;
  sloMs: number;
  /** False when the agent is not in auto mode: the controller then only watches. Default true. */
  enabled?: boolean;
  /** Offloaded requests waiting for a free worker. */
  queued?: number;
  /** Most offloads the workers run at once; Infinity (the default) when the platform scales out. */
  workerSlots?: number;
  /** Workers starting (cold) now. */
  workersStarting?: number;
  /** Workers started and ready (idle or busy) now. */
  workersWarm?: number;
  /** Per handler, cumulative counters and recent timings. */
  handlers?: HandlerReading[];
}

export interface ControllerOptions extends DecisionOptions {
  /** Reads the agent once per period. */
  read(): AgentReading;
  /** Sets the global ratio: the overall share, and what handlers without their own ratio get. */
  setRatio(ratio: number): void;
  /** Sets each handler's own ratio (handlers left out get 0). Without it only the global ratio is set. */
  setHandlerRatios?(ratios: Record<string, number>): void;
  /** Asks the provider to keep this many workers warm. */
  prewarm?(workers: number): void;
  /** Control period in ms. Default 250. */
  periodMs?: number;
  /** Resolution of the event-loop delay monitor in ms. Default 10. */
  delayResolutionMs?: number;
}

export interface ControllerEvent extends Decision {
  signals: ControllerSignals;
  /** False when the agent was not in auto mode and nothing was applied. */
  applied: boolean;
}

export interface Controller extends EventEmitter {
  readonly last: ControllerEvent | undefined;
  stop(): void;
}

export function validateControllerOptions(options: ControllerOptions): void {
  if (options === null || typeof options !== 'object') throw ControllerErrors.OPTION_TYPE('options must be an object');
  if (typeof options.read !== 'function') throw ControllerErrors.OPTION_TYPE('options.read must be a function');
  if (typeof options.setRatio !== 'function') throw ControllerErrors.OPTION_TYPE('options.setRatio must be a function');
  if (options.setHandlerRatios !== undefined && typeof options.setHandlerRatios !== 'function') throw ControllerErrors.OPTION_TYPE('options.setHandlerRatios must be a function');
  if (options.prewarm !== undefined && typeof options.prewarm !== 'function') throw ControllerErrors.OPTION_TYPE('options.prewarm must be a function');
  const periodMs = options.periodMs ?? 250;
  if (!Number.isInteger(periodMs)) throw ControllerErrors.OPTION_TYPE('options.periodMs must be an integer from 10 to 60000');
  if (periodMs < 10 || periodMs > 60_000) throw ControllerErrors.OPTION_RANGE('options.periodMs must be an integer from 10 to 60000');
  const res = options.delayResolutionMs ?? 10;
  if (!Number.isInteger(res)) throw ControllerErrors.OPTION_TYPE('options.delayResolutionMs must be an integer from 1 to 1000');
  if (res < 1 || res > 1000) throw ControllerErrors.OPTION_RANGE('options.delayResolutionMs must be an integer from 1 to 1000');
}

const sameRatios = (a: Record<string, number>, b: Record<string, number>): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
};

export function startController(options: ControllerOptions): Controller {
  validateControllerOptions(options);
  const { read, setRatio, setHandlerRatios, prewarm, periodMs = 250, delayResolutionMs = 10, ...rest } = options;
  const decisionOptions = validateDecisionOptions(rest);
  const loop = watchEventLoop(delayResolutionMs);
  const emitter = new EventEmitter() as Controller & { last: ControllerEvent | undefined };
  let prev = initialDecision(decisionOptions);
  let lastPrewarm = -1;
  let lastRatios: Record<string, number> | undefined;
  let lastReading = new Map<string, HandlerReading>();
  let lastAt = performance.now();
  emitter.last = undefined;

  const fail = (err: unknown): void => {
    if (emitter.listenerCount('error') > 0) emitter.emit('error', err);
  };

  function tick(): void {
    const { elu, loopDelayP99Ms } = loop.read();
    const now = performance.now();
    const elapsed = now - lastAt;
    lastAt = now;
    let agent: AgentReading;
    try {
      agent = read();
    } catch (err) {
      fail(err);
      return;
    }
    const handlers = handlerSignals(lastReading, agent.handlers ?? []);
    lastReading = new Map((agent.handlers ?? []).map((h) => [h.id, h]));
    const signals: ControllerSignals = {
      periodMs: Math.max(1, elapsed),
      elu,
      loopDelayP99Ms,
      inFlight: agent.inFlight,
      p99Ms: agent.p99Ms,
      sloMs: agent.sloMs,
      queued: agent.queued ?? 0,
      workerSlots: agent.workerSlots ?? Infinity,
      workersStarting: agent.workersStarting ?? 0,
      ...(agent.workersWarm !== undefined ? { workersWarm: agent.workersWarm } : {}),
      handlers,
    };
    const decision = decide(prev, signals, decisionOptions);
    const applied = agent.enabled !== false;
    // Watching only (not auto mode): nothing is offloaded on the controller's account.
    prev = applied ? decision : { ...decision, ratios: {}, ratio: 0, calm: 0 };
    if (applied) {
      try {
        if (setHandlerRatios && (!lastRatios || !sameRatios(lastRatios, decision.ratios))) {
          setHandlerRatios(decision.ratios);
          lastRatios = decision.ratios;
        }
        if (decision.ratio !== agent.ratio) setRatio(decision.ratio);
        if (prewarm && decision.prewarm !== lastPrewarm) {
          lastPrewarm = decision.prewarm;
          if (decision.prewarm > 0) prewarm(decision.prewarm);
        }
      } catch (err) {
        fail(err);
      }
    }
    emitter.last = { ...decision, signals, applied };
    emitter.emit('decision', emitter.last);
  }

  const timer = setInterval(tick, periodMs);
  timer.unref();
  emitter.stop = () => {
    clearInterval(timer);
    loop.close();
  };
  return emitter;
}
