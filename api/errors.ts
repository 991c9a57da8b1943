import { defineErrors } from '../protocol';

/** Misuse of the public API (`require('beehive')`): argument checks, as Node's own, are TypeErrors. */
export const ApiErrors = defineErrors('API', {
  NO_AGENT: ['BEEHIVE_ERR_API_NO_AGENT', 'beehive.configure(): the server agent is not installed with this copy of beehive', TypeError],
  LOCK_KEY: ['BEEHIVE_ERR_API_LOCK_KEY', 'lock key must be a string of 1 to 256 characters', TypeError],
  LOCK_FN: ['BEEHIVE_ERR_API_LOCK_FN', 'lock needs a function', TypeError],
  UNGUARDED_FN: ['BEEHIVE_ERR_API_UNGUARDED_FN', 'unguarded needs a function', TypeError],
});
