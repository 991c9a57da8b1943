/**
 * Profiler facade: CPU time per handler from duty-cycled V8 sampling, and the pure root-handler
 * selection of paper §4.3. Wall time per handler is the agent's handler statistics (`profile`).
 */
export { createCpuProfiler, type CpuProfiler, type CpuProfilerOptions } from './cpu-profiler';
export { attributeProfile, type Attribution, type CpuProfile } from './cpu-attribution';
export { selectHandlers, type Selection, type SelectionCandidate, type SelectionOptions, type SelectionVerdict } from './select';
