import { parseFlags, UsageError, type Command } from './registry';

export const command: Command = {
  summary: 'run a worker process for the local platform',
  usage: `usage: beehive worker

Runs one BeeHive worker: it takes invocation events from the agent that started it (over the
Node IPC channel, as the local platform does) and runs them one at a time. On Lambda and OpenWhisk
the packaged artifact's entry point plays this part (see 'beehive package').`,
  async run(argv) {
    parseFlags(argv, {});
    if (!process.send) throw new UsageError('no IPC channel: a worker is started by the agent (BEEHIVE_PLATFORM=local)');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('../../offload-worker') as typeof import('../../offload-worker')).serveIpc();
    await new Promise<void>((resolve) => process.once('disconnect', () => resolve()));
    return 0;
  },
};
