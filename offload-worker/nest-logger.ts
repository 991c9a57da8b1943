import Module from 'node:module';
import path from 'node:path';

/**
 * Nest's `Logger` on the worker: its calls are recorded, not printed, and the server replays them on
 * its own Logger objects after the invocation commits. The server's logger is the one configured
 * (`NestFactory.create(..., { logger })`, `useLogger()`, log levels, a custom logger): the worker's
 * copy of Nest knows none of it, and would print lines the app suppresses, in its own format, to the
 * worker's output — and write its view of the levels back into the server's Logger objects.
 */
export const LOG_METHODS = ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'] as const;

let recording: unknown[][] | undefined;
const patched = new WeakSet<object>();

function nestLoggers(): Array<Function> {
  const out: Function[] = [];
  const cache = (Module as unknown as { _cache: Record<string, { exports: unknown; filename: string }> })._cache;
  const suffix = `${path.sep}node_modules${path.sep}@nestjs${path.sep}common${path.sep}index.js`;
  for (const m of Object.values(cache)) {
    if (!m?.filename?.endsWith(suffix)) continue;
    const L = (m.exports as { Logger?: unknown })?.Logger;
    if (typeof L === 'function') out.push(L);
  }
  return out;
}

function patch(L: Function): void {
  if (patched.has(L)) return;
  patched.add(L);
  for (const target of [L.prototype as Record<string, unknown>, L as unknown as Record<string, unknown>]) {
    for (const name of LOG_METHODS) {
      const orig = target[name];
      if (typeof orig !== 'function') continue;
      Object.defineProperty(target, name, {
        configurable: true,
        writable: true,
        value: function (this: unknown, ...args: unknown[]) {
          if (recording) {
            recording.push([this, name, args]);
            return;
          }
          return (orig as (...a: unknown[]) => unknown).apply(this, args);
        },
      });
    }
  }
}

/** Starts recording Nest Logger calls (those of any copy of @nestjs/common loaded here). */
export function startLogRecording(): void {
  for (const L of nestLoggers()) patch(L);
  recording = [];
}

/** Stops recording: the calls, as [logger, method, args], to replay on the server. */
export function stopLogRecording(): unknown[][] {
  const r = recording ?? [];
  recording = undefined;
  return r;
}
