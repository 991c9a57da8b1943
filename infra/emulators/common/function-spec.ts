/** The settings of one emulated function, shared by both emulators and the CLI. */
import { EmulatorErrors } from '../../errors';

export interface FunctionSpec {
  /** Function (Lambda) or action (OpenWhisk) name. */
  name: string;
  /** A deployment zip or a folder. */
  artifact: string;
  /** Lambda: `file.export` (default `index.handler`); OpenWhisk: the exported function (default `main`). */
  handler?: string;
  /** Memory setting in MB; the instance's V8 heap limit. Default 128 (Lambda) / 256 (OpenWhisk). */
  memoryMB?: number;
  /** Per-invocation timeout in seconds (fractions allowed here). Default 3 (Lambda) / 60 (OpenWhisk). */
  timeoutS?: number;
  /** Most concurrent instances. Default 10. */
  concurrency?: number;
  /** Seconds an idle instance is kept warm. Default 300. */
  idleTimeoutS?: number;
  /** Extra environment for the instances. */
  env?: Record<string, string>;
}

/** Parses the CLI's `NAME=ARTIFACT`. */
export function parseFunctionFlag(flag: string): Pick<FunctionSpec, 'name' | 'artifact'> {
  const eq = flag.indexOf('=');
  const name = flag.slice(0, eq);
  const artifact = flag.slice(eq + 1);
  if (eq <= 0 || !artifact || !/^[A-Za-z0-9_.:-]+$/.test(name)) {
    throw EmulatorErrors.FUNCTION_SPEC(`expected NAME=ARTIFACT, got '${flag}'`);
  }
  return { name, artifact };
}

/** Validates numeric settings so that a typo fails at start-up, not at the first invoke. */
export function checkSpec(spec: FunctionSpec): void {
  const positive = (v: number | undefined, what: string, integer: boolean) => {
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
      throw EmulatorErrors.FUNCTION_SPEC(`${spec.name}: ${what} must be a positive ${integer ? 'integer' : 'number'}`);
    }
  };
  positive(spec.memoryMB, 'memory', true);
  positive(spec.timeoutS, 'timeout', false);
  positive(spec.concurrency, 'concurrency', true);
  positive(spec.idleTimeoutS, 'idle timeout', false);
  if (spec.memoryMB !== undefined && spec.memoryMB < 64) throw EmulatorErrors.FUNCTION_SPEC(`${spec.name}: memory must be at least 64 MB`);
}
