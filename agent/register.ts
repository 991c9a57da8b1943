/**
 * `node -r beehive/agent app.js`: starts the agent before the app loads its framework. Worker
 * processes of the local platform set BEEHIVE_ROLE=worker and never start an agent.
 *
 * A configuration error stops the process before the app starts, with one line naming the variable
 * and the error code (no stack trace: nothing in it would help), and exit code 1.
 */
if (process.env.BEEHIVE_ROLE !== 'worker') {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('./index').start({}, 'node -r beehive/agent');
  } catch (err) {
    const code = (err as { code?: unknown })?.code;
    if (typeof code !== 'string' || !code.startsWith('BEEHIVE_ERR_CONFIG_')) throw err;
    process.stderr.write(`beehive: ${code}: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
