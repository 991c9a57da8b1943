import { defineErrors } from '../../protocol';

/** The burst controller's option checks (TypeError for a wrong type, RangeError out of range or in conflict). */
export const ControllerErrors = defineErrors('CONTROLLER', {
  OPTION_TYPE: ['BEEHIVE_ERR_CONTROLLER_OPTION_TYPE', 'invalid option', TypeError],
  OPTION_RANGE: ['BEEHIVE_ERR_CONTROLLER_OPTION_RANGE', 'option out of range', RangeError],
});
