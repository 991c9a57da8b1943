import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  summary: string;
  usage: string;
  /** Resolves with the exit code; long-running commands resolve when they shut down. */
  run(argv: string[]): Promise<number>;
}

/** A bad flag or value: the CLI prints one line and exits with code 2. */
export class UsageError extends Error {}

export const commandNames = ['init', 'package', 'proxy', 'emulate', 'worker'];

export function loadCommand(name: string): Command {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(`./${name}`).command as Command;
}

/** `util.parseArgs` with its errors turned into one-line usage errors. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: boolean }>> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
}
