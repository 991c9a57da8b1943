import { defineErrors } from '../../protocol';

/** The providers' option checks (TypeError for a wrong type, RangeError out of range) and the cost model's prices. */
export const ProviderOptionErrors = defineErrors('PROVIDER', {
  OPTION_TYPE: ['BEEHIVE_ERR_PROVIDER_OPTION_TYPE', 'invalid option', TypeError],
  OPTION_RANGE: ['BEEHIVE_ERR_PROVIDER_OPTION_RANGE', 'option out of range', RangeError],
});
