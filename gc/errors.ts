import { defineErrors } from '../protocol';

export const GcErrors = defineErrors('GC', {
  LIMIT: ['BEEHIVE_ERR_GC_LIMIT', 'limit must be a positive integer', RangeError],
});
