/**
 * Burst controller facade: the pure decision (`decide`) and its runtime loop (`startController`).
 *
 * Wiring: `startController({ ...controllerHooks(control, (n) => provider.prewarm(n)), periodMs: 1000 })`.
 */
export { decide, initialDecision, overloadOf, validateDecisionOptions, kDecisionDefaults } from './decide';
export type { Action, ControllerSignals, Decision, DecisionOptions } from './decide';
export { startController, validateControllerOptions, type Controller, type ControllerEvent, type ControllerOptions, type AgentReading } from './controller';
export { controllerHooks } from './control-hooks';
export { watchEventLoop, type LoopSignals } from './loop-signals';
