/**
 * The burst controller at run time: every period it reads the event loop and the agent, decides,
 * and applies the ratio and the pre-warm request. It emits 'decision' after each period (tests and
 * the dashboard wait on it) and never lets a hook's failure reach the server.
 */
import { EventEmitter } from 'node:events';
import { decide, initialDecision, validateDecisionOptions, type ControllerSignals, type Decision, type DecisionOptions } from './decide';
import { watchEventLoop } from './loop-signals';

export interface AgentReading {
  /** The ratio in force now (an operator may have changed it since the last period). */
  ratio: number;
  inFlight: number;
  /** Request latency p99 over the last period, ms; 0 when unknown. */
  p99Ms: number;
  sloMs: number;
  /** False when the agent is not in auto mode: the controller then only watches. Default true. */
  enabled?: boolean;
  /** Offloaded requests waiting for a free worker: the workers, not the server, are the bottleneck. */
  queued?: number;
}

export interface ControllerOptions extends DecisionOptions {
  /** Reads the agent once per period. */
  read(): AgentReading;
  setRatio(ratio: number): void;
  /** Asks the provider to keep this many workers warm. */
  prewarm?(workers: number): void;
  /** Control period in ms. Default 1000. */
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
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (typeof options.read !== 'function') throw new TypeError('options.read must be a function');
  if (typeof options.setRatio !== 'function') throw new TypeError('options.setRatio must be a function');
  if (options.prewarm !== undefined && typeof options.prewarm !== 'function') throw new TypeError('options.prewarm must be a function');
  const periodMs = options.periodMs ?? 1000;
  if (!Number.isInteger(periodMs)) throw new TypeError('options.periodMs must be an integer from 10 to 60000');
  if (periodMs < 10 || periodMs > 60_000) throw new RangeError('options.periodMs must be an integer from 10 to 60000');
  const res = options.delayResolutionMs ?? 10;
  if (!Number.isInteger(res)) throw new TypeError('options.delayResolutionMs must be an integer from 1 to 1000');
  if (res < 1 || res > 1000) throw new RangeError('options.delayResolutionMs must be an integer from 1 to 1000');
}

export function startController(options: ControllerOptions): Controller {
  validateControllerOptions(options);
  const { read, setRatio, prewarm, periodMs = 1000, delayResolutionMs = 10, ...rest } = options;
  const decisionOptions = validateDecisionOptions(rest);
  const loop = watchEventLoop(delayResolutionMs);
  const emitter = new EventEmitter() as Controller & { last: ControllerEvent | undefined };
  let prev = initialDecision();
  let lastPrewarm = -1;
  emitter.last = undefined;

  const fail = (err: unknown): void => {
    if (emitter.listenerCount('error') > 0) emitter.emit('error', err);
  };

  function tick(): void {
    const { elu, loopDelayP99Ms } = loop.read();
    let agent: AgentReading;
    try {
      agent = read();
    } catch (err) {
      fail(err);
      return;
    }
    const signals: ControllerSignals = { elu, loopDelayP99Ms, inFlight: agent.inFlight, p99Ms: agent.p99Ms, sloMs: agent.sloMs, queued: agent.queued ?? 0 };
    // Start from the ratio in force: an operator's change is the controller's new starting point.
    const decision = decide({ ...prev, ratio: agent.ratio }, signals, decisionOptions);
    const applied = agent.enabled !== false;
    prev = applied ? decision : { ...decision, ratio: agent.ratio, calm: 0 };
    if (applied) {
      try {
        if (decision.ratio !== agent.ratio) setRatio(decision.ratio);
        if (prewarm && decision.prewarm !== lastPrewarm) {
          lastPrewarm = decision.prewarm;
          prewarm(decision.prewarm);
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
