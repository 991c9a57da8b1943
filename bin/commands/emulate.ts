/**
 * `beehive emulate lambda|openwhisk --listen HOST:PORT --function NAME=ARTIFACT ...`: a local
 * Lambda Invoke API or OpenWhisk actions API serving packaged artifacts. The first stdout line is
 * the listening address; then one line per invocation with billed duration and memory.
 */
import { parseEmulateFlags, startEmulator } from '../../infra';
import { BeehiveError } from '../../protocol';
import { parseFlags, UsageError, type Command } from './registry';

const usage = `usage: beehive emulate lambda|openwhisk --listen HOST:PORT --function NAME=ARTIFACT [options]

Runs a local Lambda (Invoke API, /2015-03-31/functions/NAME/invocations) or OpenWhisk
(/api/v1/namespaces/_/actions/NAME) that the official clients talk to unchanged. ARTIFACT is a
zip from 'beehive package' or a folder. Each instance is a separate process.

  --listen HOST:PORT     address (default 127.0.0.1:0 = any free port)
  --function NAME=PATH   a function or action; repeat for several
  --memory MB            memory setting = instance heap limit (default 128 / 256)
  --timeout S            per-invocation timeout, seconds (default 3 / 60)
  --concurrency N        most concurrent instances per function; beyond: throttled (default 10)
  --idle-timeout S       seconds an idle instance stays warm (default 300 / 600)
  --handler H            Lambda handler (default index.handler) or OpenWhisk main (default main)
  --auth UUID:KEY        OpenWhisk API key (default: the well-known guest key)
  --blocking-window S    OpenWhisk: blocking invokes answer 202 after this (default 60)
  --quiet                do not print per-invocation lines
`;

export const command: Command = {
  summary: 'run a local Lambda or OpenWhisk emulator for packaged artifacts',
  usage,
  async run(argv) {
    const parsed = parseFlags(
      argv,
      {
        listen: { type: 'string' },
        function: { type: 'string', multiple: true },
        memory: { type: 'string' },
        timeout: { type: 'string' },
        concurrency: { type: 'string' },
        'idle-timeout': { type: 'string' },
        handler: { type: 'string' },
        auth: { type: 'string' },
        'blocking-window': { type: 'string' },
        quiet: { type: 'boolean' },
      },
      true,
    );
    const values = parsed.values as Record<string, string | undefined> & { function?: string[]; quiet?: boolean };
    const { positionals } = parsed;
    let config;
    try {
      config = parseEmulateFlags(positionals, values);
    } catch (err) {
      const code = (err as BeehiveError).code;
      throw new UsageError(code ? `${code}: ${(err as Error).message}` : (err as Error).message);
    }
    let emulator;
    try {
      emulator = await startEmulator(config, values.quiet ? undefined : (line) => process.stdout.write(line + '\n'));
    } catch (err) {
      if (err instanceof BeehiveError || (err as NodeJS.ErrnoException)?.code) {
        process.stderr.write(`beehive emulate: ${(err as BeehiveError).code ?? ''}: ${(err as Error).message}\n`);
        return 1;
      }
      throw err;
    }
    process.stdout.write(`listening ${emulator.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await emulator.close();
    return 0;
  },
};
