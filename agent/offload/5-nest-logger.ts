import Module from 'node:module';
import path from 'node:path';
import { exemptFromPackageDrift } from '../capture/package-state';
import { debug } from '../debug';

const METHODS = new Set(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);

/** The server's Nest Logger classes (one per copy of @nestjs/common it loaded). */
function loggers(): Function[] {
  const out: Function[] = [];
  const cache = (Module as unknown as { _cache: Record<string, { exports: unknown; filename: string }> })._cache;
  const suffix = `${path.sep}node_modules${path.sep}@nestjs${path.sep}common${path.sep}index.js`;
  for (const m of Object.values(cache)) {
    const L = m?.filename?.endsWith(suffix) ? (m.exports as { Logger?: unknown })?.Logger : undefined;
    if (typeof L === 'function') out.push(L);
  }
  return out;
}

/**
 * Replays the Nest Logger calls a worker recorded (offload-worker/nest-logger.ts) on the server's
 * Logger objects, so they print as the app configured them. Only Logger methods on Loggers (the
 * class or its instances): a worker cannot make the server call anything else.
 */
export function replayNestLogs(logs: unknown): void {
  if (!Array.isArray(logs) || logs.length === 0) return;
  const Ls = loggers();
  for (const entry of logs) {
    if (!Array.isArray(entry) || entry.length !== 3) continue;
    const [target, name, args] = entry as [unknown, unknown, unknown];
    if (typeof name !== 'string' || !METHODS.has(name) || !Array.isArray(args)) continue;
    const ok = Ls.some((L) => target === L || (target !== null && typeof target === 'object' && target instanceof L));
    if (!ok) continue;
    try {
      (target as Record<string, (...a: unknown[]) => unknown>)[name](...args);
    } catch (err) {
      debug('agent', `replaying a Nest log call: ${(err as Error).message}`);
    }
  }
}

/**
 * Nest configures its Logger class's statics at startup (`logger` option, `useLogger`): a worker's
 * pristine copy need not match them, since its Logger calls come back here to be printed.
 */
export function exemptNestLoggers(): void {
  const cache = (Module as unknown as { _cache: Record<string, { exports: unknown; filename: string }> })._cache;
  const suffix = `${path.sep}node_modules${path.sep}@nestjs${path.sep}common${path.sep}index.js`;
  for (const m of Object.values(cache)) {
    if (!m?.filename?.endsWith(suffix)) continue;
    for (const k of ['Logger', 'ConsoleLogger']) {
      const L = (m.exports as Record<string, unknown>)?.[k];
      if (typeof L === 'function') {
        exemptFromPackageDrift(L);
        exemptFromPackageDrift(L.prototype as object);
      }
    }
  }
}
