import { defineErrors } from '../../protocol';

/** The admin server's and the series sampler's option checks (TypeError for a wrong type, RangeError out of range), and BEEHIVE_ADMIN's address. */
export const AdminOptionErrors = defineErrors('ADMIN', {
  OPTION_TYPE: ['BEEHIVE_ERR_ADMIN_OPTION_TYPE', 'invalid option', TypeError],
  OPTION_RANGE: ['BEEHIVE_ERR_ADMIN_OPTION_RANGE', 'option out of range', RangeError],
});
