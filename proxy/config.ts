/**
 * The configuration file: a JSON object of startProxy's options (`proxy/options.ts`), read at start
 * and again on RELOAD. Options given to startProxy override the file's. A reload applies what can
 * change while the proxy runs (limits, timeouts, users) and reports the rest as needing a restart;
 * a file that cannot be read or is invalid leaves the running configuration as it is.
 */
import fs from 'node:fs';
import { resolveOptions, type ProxyOptions, type ResolvedProxyOptions } from './options';
import { ProxyErrors } from './errors';

/** Keys a file may set (every option but configFile). */
const kKeys = new Set([
  'upstream', 'listen', 'poolMode', 'maxBackends', 'maxClients', 'auth', 'users', 'tls', 'control', 'handoffTtlMs',
  'acquireTimeoutMs', 'connectTimeoutMs', 'idleTimeoutMs', 'maxMessageSize', 'cleanupTimeoutMs', 'loginTimeoutMs', 'adminUsers',
  'databases', 'serverUser',
]);

/** What a reload can change in place; anything else waits for a restart. */
export const kReloadable = ['maxBackends', 'maxClients', 'auth', 'users', 'adminUsers', 'acquireTimeoutMs', 'connectTimeoutMs', 'idleTimeoutMs', 'cleanupTimeoutMs', 'loginTimeoutMs', 'maxMessageSize', 'databases', 'serverUser'] as const;

/** Reads and checks the file: CONFIG_UNREADABLE or CONFIG_INVALID (naming the file and what is wrong). */
export function readConfigFile(file: string): ProxyOptions {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw ProxyErrors.CONFIG_UNREADABLE(`${file}: ${(err as Error).message}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw ProxyErrors.CONFIG_INVALID(`${file}: not JSON (${(err as Error).message})`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw ProxyErrors.CONFIG_INVALID(`${file}: must be a JSON object of proxy options`);
  const unknown = Object.keys(value).filter((k) => !kKeys.has(k));
  if (unknown.length > 0) throw ProxyErrors.CONFIG_INVALID(`${file}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`);
  return value as ProxyOptions;
}

const defined = (o: ProxyOptions): ProxyOptions => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as ProxyOptions;

/** The options with the file's under them, resolved; a bad value in the file is CONFIG_INVALID. */
export function resolveWithFile(options: ProxyOptions): ResolvedProxyOptions {
  if (!options || typeof options !== 'object' || options.configFile === undefined) return resolveOptions(options);
  const file = options.configFile;
  if (typeof file !== 'string' || file === '') return resolveOptions(options); // its own TypeError
  const merged = { ...readConfigFile(file), ...defined(options) };
  try {
    return resolveOptions(merged);
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw ProxyErrors.CONFIG_INVALID(`${file}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** The keys whose values differ (compared as JSON). */
export function changedKeys(a: ResolvedProxyOptions, b: ResolvedProxyOptions): string[] {
  return (Object.keys(a) as Array<keyof ResolvedProxyOptions>).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}
