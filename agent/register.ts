/**
 * `node -r beehive/agent app.js`: starts the agent before the app loads its framework. Worker
 * processes of the local platform set BEEHIVE_ROLE=worker and never start an agent.
 */
if (process.env.BEEHIVE_ROLE !== 'worker') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./index').start();
}
