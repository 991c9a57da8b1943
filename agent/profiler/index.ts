/**
 * Profiler facade: wall time per candidate handler (`record` on the request path), CPU time per
 * handler from duty-cycled V8 sampling, and the pure root-handler selection of paper §4.3.
 */
export { createWallProfiler, type WallProfiler, type WallProfilerOptions, type HandlerProfile } from './wall-profiler';
export { createCpuProfiler, type CpuProfiler, type CpuProfilerOptions } from './cpu-profiler';
export { attributeProfile, type Attribution, type CpuProfile } from './cpu-attribution';
export { selectHandlers, type Selection, type SelectionCandidate, type SelectionOptions, type SelectionVerdict } from './select';
export { LogHistogram } from './histogram';
