import { defineErrors } from '../protocol';

/** The proxy's option checks (TypeError for a wrong type, RangeError out of range), for startProxy, the CLI and the config file. */
export const ProxyOptionErrors = defineErrors('PROXY', {
  OPTION_TYPE: ['BEEHIVE_ERR_PROXY_OPTION_TYPE', 'invalid option', TypeError],
  OPTION_RANGE: ['BEEHIVE_ERR_PROXY_OPTION_RANGE', 'option out of range', RangeError],
});
