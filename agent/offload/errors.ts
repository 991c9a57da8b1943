import { defineErrors } from '../../protocol';

/** What the server half of the offload refuses of a worker's answer. */
export const OffloadErrors = defineErrors('OFFLOAD', {
  OUTCOME: ['BEEHIVE_ERR_OFFLOAD_OUTCOME', 'malformed worker outcome'],
});
