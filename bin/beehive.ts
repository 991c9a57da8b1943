#!/usr/bin/env node
/**
 * The `beehive` command. Each subcommand lives in `bin/commands/<name>.ts` and exports
 * `{ summary, usage, run(argv) }`; it is loaded only when called so that `beehive proxy` does not pay
 * for the packager and the other way round.
 */
import { commandNames, loadCommand, UsageError } from './commands/registry';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    process.stdout.write(`beehive ${(require('../agent') as typeof import('../agent')).productVersion()}\n`);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const lines = ['usage: beehive <command> [options]', '', 'commands:'];
    for (const n of commandNames) lines.push(`  ${n.padEnd(10)} ${loadCommand(n).summary}`);
    lines.push('', "Run 'beehive <command> --help' for a command's options, 'beehive --version' for the version.");
    process.stdout.write(lines.join('\n') + '\n');
    return name ? 0 : 2;
  }
  if (!commandNames.includes(name)) {
    process.stderr.write(`beehive: unknown command '${name}' (try 'beehive --help')\n`);
    return 2;
  }
  const cmd = loadCommand(name);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.usage.trimEnd() + '\n');
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`beehive ${name}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`beehive ${name}: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Long-running commands (proxy, emulate, worker) return only when they are done.
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(String(err?.stack ?? err) + '\n');
    process.exitCode = 1;
  },
);
