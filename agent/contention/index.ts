/**
 * Serializability and contention (README "Consistency"): the read set each invocation is validated
 * against at its commit point, and the hot objects that are locked at first touch instead.
 */
export { fingerprint, samePrint, type Fingerprint } from './fingerprint';
export { ReadSet, conflictOn, conflictReason, type ConflictReason } from './read-set';
export { Contention, canBeHot, type ContentionOptions } from './temperature';
