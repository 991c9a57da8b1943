/**
 * The `beehive emulate` command's logic behind the facade: flag values → emulator options (with
 * one-line errors for bad values), and the per-invocation lines it prints.
 */
import { parseFunctionFlag, type FunctionSpec } from './common/function-spec';
import { parseListen } from './common/http';
import { startLambdaEmulator } from './lambda/server';
import { reportLine } from './lambda/wire';
import { startOpenWhiskEmulator } from './openwhisk/server';
import { EmulatorErrors } from '../errors';

export interface EmulateConfig {
  platform: 'lambda' | 'openwhisk';
  host: string;
  port: number;
  functions: FunctionSpec[];
  auth?: string;
  blockingWindowS?: number;
}

type Flags = Partial<Record<'listen' | 'memory' | 'timeout' | 'concurrency' | 'idle-timeout' | 'handler' | 'auth' | 'blocking-window', string>> & { function?: string[] };

function num(v: string | undefined, flag: string, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw EmulatorErrors.USAGE(`--${flag} must be a positive ${integer ? 'integer' : 'number'}, got '${v}'`);
  }
  return n;
}

export function parseEmulateFlags(positionals: string[], flags: Flags): EmulateConfig {
  if (positionals.length !== 1) throw EmulatorErrors.USAGE('expected one platform: lambda or openwhisk');
  const platform = positionals[0];
  if (platform !== 'lambda' && platform !== 'openwhisk') throw EmulatorErrors.USAGE(`unknown platform '${platform}' (expected lambda or openwhisk)`);
  const listen = parseListen(flags.listen ?? '127.0.0.1:0');
  if (!listen) throw EmulatorErrors.USAGE(`--listen must be HOST:PORT, got '${flags.listen}'`);
  if (!flags.function?.length) throw EmulatorErrors.USAGE('--function NAME=ARTIFACT is required');
  const common = {
    memoryMB: num(flags.memory, 'memory', true),
    timeoutS: num(flags.timeout, 'timeout', false),
    concurrency: num(flags.concurrency, 'concurrency', true),
    idleTimeoutS: num(flags['idle-timeout'], 'idle-timeout', false),
    handler: flags.handler,
  };
  if (common.memoryMB !== undefined && common.memoryMB < 64) throw EmulatorErrors.USAGE('--memory must be at least 64 (MB)');
  if (flags.auth !== undefined && platform !== 'openwhisk') throw EmulatorErrors.USAGE('--auth is for openwhisk');
  if (flags.auth !== undefined && !/^[^:]+:.+$/.test(flags.auth)) throw EmulatorErrors.USAGE('--auth must be UUID:KEY');
  const functions = flags.function.map((f) => ({ ...parseFunctionFlag(f), ...common }));
  return { platform, ...listen, functions, auth: flags.auth, blockingWindowS: num(flags['blocking-window'], 'blocking-window', false) };
}

/** Starts the configured emulator; `print` receives one line per invocation. */
export async function startEmulator(cfg: EmulateConfig, print?: (line: string) => void): Promise<{ url: string; close(): Promise<void> }> {
  if (cfg.platform === 'lambda') {
    return startLambdaEmulator({
      host: cfg.host,
      port: cfg.port,
      functions: cfg.functions,
      onReport: print && ((r) => print(`${r.function} ${r.status} ${reportLine(r).trim()}`)),
    });
  }
  return startOpenWhiskEmulator({
    host: cfg.host,
    port: cfg.port,
    functions: cfg.functions,
    auth: cfg.auth,
    blockingWindowS: cfg.blockingWindowS,
    onActivation:
      print &&
      ((a) => {
        const init = a.annotations.find((x) => x.key === 'initTime');
        const mem = (a.annotations.find((x) => x.key === 'limits')?.value as { memory?: number })?.memory;
        print(`${a.name} ${a.response.status} activation ${a.activationId} duration ${a.duration} ms memory ${mem} MB${init ? ` initTime ${init.value} ms` : ''}`);
      }),
  });
}
