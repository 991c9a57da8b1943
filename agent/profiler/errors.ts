import { defineErrors } from '../../protocol';

/** The profiler's and the selection's option checks (TypeError for a wrong type, RangeError out of range), and its inspector. */
export const ProfilerErrors = defineErrors('PROFILER', {
  OPTION_TYPE: ['BEEHIVE_ERR_PROFILER_OPTION_TYPE', 'invalid option', TypeError],
  OPTION_RANGE: ['BEEHIVE_ERR_PROFILER_OPTION_RANGE', 'option out of range', RangeError],
  ARGUMENT: ['BEEHIVE_ERR_PROFILER_ARGUMENT', 'invalid argument', TypeError],
  INSPECTOR: ['BEEHIVE_ERR_PROFILER_INSPECTOR', 'the inspector did not reply synchronously'],
});
