/**
 * Burst controller facade: the pure decision (`decide`), what it learns (`updateEstimates`) and its
 * runtime loop (`startController`).
 *
 * Wiring: `startController({ ...controllerHooks(control, { prewarm, setHandlerRatios, workerSlots }) })`.
 */
export { decide, explainedLoad, initialDecision, overloadOf, validateDecisionOptions, kDecisionDefaults } from './decide';
export type { Action, ControllerSignals, Decision, DecisionOptions, HandlerSignals } from './decide';
export { initialEstimates, successRate, updateEstimates, type Estimates } from './estimate';
export { handlerSignals, type HandlerReading } from './handler-signals';
export { startController, validateControllerOptions, type Controller, type ControllerEvent, type ControllerOptions, type AgentReading } from './controller';
export { controllerHooks, toHandlerReading, type ControllerHookOptions } from './control-hooks';
export { watchEventLoop, type LoopSignals } from './loop-signals';
