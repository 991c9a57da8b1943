import { defineErrors } from '../../protocol';

/** The contention tracker's option checks. */
export const ContentionErrors = defineErrors('CONTENTION', {
  OPTION_TYPE: ['BEEHIVE_ERR_CONTENTION_OPTION_TYPE', 'invalid option', TypeError],
  OPTION_RANGE: ['BEEHIVE_ERR_CONTENTION_OPTION_RANGE', 'option out of range', RangeError],
});
