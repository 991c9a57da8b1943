/**
 * The set of functions an emulator serves: each artifact prepared once (unzipped to a temp folder)
 * with its instance pool and the platform's defaults filled in.
 */
import type { EventEmitter } from 'node:events';
import { prepareArtifact, type PreparedArtifact } from './artifact';
import { checkSpec, type FunctionSpec } from './function-spec';
import { FunctionPool } from './pool';
import type { RuntimeMode } from './ipc';
import { EmulatorErrors } from '../../errors';

export interface PlatformDefaults {
  handler: string;
  memoryMB: number;
  timeoutS: number;
  concurrency: number;
  idleTimeoutS: number;
}

export interface EmulatedFunction {
  spec: Required<Omit<FunctionSpec, 'env'>>;
  pool: FunctionPool;
  artifact: PreparedArtifact;
}

export async function prepareFunctions(
  mode: RuntimeMode,
  specs: FunctionSpec[],
  defaults: PlatformDefaults,
  env: (spec: Required<Omit<FunctionSpec, 'env'>>, taskRoot: string) => Record<string, string>,
  events?: EventEmitter,
): Promise<Map<string, EmulatedFunction>> {
  const out = new Map<string, EmulatedFunction>();
  try {
    for (const s of specs) {
      checkSpec(s);
      if (out.has(s.name)) throw EmulatorErrors.FUNCTION_SPEC(`function ${s.name} is given twice`);
      const spec = { ...defaults, ...stripUndefined(s) } as Required<FunctionSpec>;
      const artifact = await prepareArtifact(s.artifact);
      const pool = new FunctionPool({
        name: spec.name,
        mode,
        taskRoot: artifact.dir,
        handler: spec.handler,
        memoryMB: spec.memoryMB,
        timeoutMs: Math.round(spec.timeoutS * 1000),
        concurrency: spec.concurrency,
        idleTimeoutMs: Math.round(spec.idleTimeoutS * 1000),
        events,
        // Instances see a platform-like environment, not the emulator's own (no secrets leak in).
        env: { PATH: process.env.PATH ?? '', TZ: 'UTC', LANG: 'en_US.UTF-8', ...env(spec, artifact.dir), ...(s.env ?? {}) },
      });
      out.set(spec.name, { spec, pool, artifact });
    }
  } catch (err) {
    await closeFunctions(out);
    throw err;
  }
  return out;
}

export async function closeFunctions(fns: Map<string, EmulatedFunction>): Promise<void> {
  for (const f of fns.values()) f.pool.close();
  await Promise.all([...fns.values()].map((f) => f.artifact.cleanup()));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
