/**
 * The agent's options: one table of every option, the environment variable that sets it and its
 * check, used alike for the BEEHIVE_* variables and for `configure({ ... })`. Every error is a
 * BeehiveError with a BEEHIVE_ERR_CONFIG_* code that names what the user wrote: the variable
 * (`BEEHIVE_RATIO`) or the key (`configure({ ratio })`). Unknown keys and unknown BEEHIVE_*
 * variables are refused with the closest known name. The README's configuration table lists the
 * same variables (a test checks it against `ENV_VARIABLES`).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AgentMode, Platform } from './state';
import { defineErrors } from '../protocol';

export const ConfigErrors = defineErrors('CONFIG', {
  INVALID: ['BEEHIVE_ERR_CONFIG_INVALID', 'invalid configuration'],
  UNKNOWN: ['BEEHIVE_ERR_CONFIG_UNKNOWN', 'unknown configuration key'],
  MISSING: ['BEEHIVE_ERR_CONFIG_MISSING', 'incomplete configuration'],
  PEER_MISSING: ['BEEHIVE_ERR_CONFIG_PEER_MISSING', 'a package the chosen platform needs is not installed'],
  ALREADY_STARTED: ['BEEHIVE_ERR_CONFIG_ALREADY_STARTED', 'the agent is already running'],
  RATIO: ['BEEHIVE_ERR_CONFIG_RATIO', 'ratio must be a number from 0 to 1', RangeError],
});

export interface AgentOptions {
  platform: Platform;
  mode: AgentMode;
  /** Share of requests of selected handlers to offload, 0..1 (manual mode; the controller's start value in auto). */
  ratio: number;
  /** Explicit candidates, e.g. ['GET /thumb', 'POST /topics/:id/comments']; empty: every route handler. */
  routes: string[];
  shadowRuns: number;
  sloMs: number;
  /** Local pool size. */
  workers: number;
  /** host:port of the admin API, or 'off'. */
  admin: string;
  adminToken?: string;
  /** Also export prom-client's default process metrics (CPU, memory, GC) on /metrics. */
  processMetrics: boolean;
  /**
   * Attribute CPU time to handlers with V8's sampling profiler (1 s windows every 10 s), for the
   * `beehive_handler_cpu_seconds_total` metric. Off by default: starting a window stalls the event
   * loop while V8 logs every compiled function (23-210 ms measured in an Express app on 2 cores),
   * a tail-latency cost every request in flight then pays. Handler selection does not need it.
   */
  cpuProfile: boolean;
  /** No start-up summary line on stderr. */
  quiet: boolean;
  /** Where workers reach the BeeHive PostgreSQL proxy: postgres://host:port/database. */
  proxyUrl?: string;
  /** The proxy's control endpoint (http://host:port) and its bearer token, for hand-offs. */
  proxyControl?: string;
  proxyControlToken?: string;
  /** Programmatic alternative to proxyControl: a proxy started in this process (`startProxy`). */
  proxy?: import('../proxy').ProxyHandle;
  statsFile?: string;
  /** Where workers reach the channel (ws:// or wss://); default: the channel's own address. */
  callbackUrl?: string;
  /** host:port the channel listens on. Default 127.0.0.1:0. */
  channelListen: string;
  /** PEM files: with both, the channel serves wss:// (workers trust it through BEEHIVE_CHANNEL_CA). */
  channelTlsCert?: string;
  channelTlsKey?: string;
  /** Invocation timeout in ms. */
  timeoutMs: number;
  /** How many times a conflicting offload runs again on a worker before it runs here. */
  conflictRetries: number;
  /** Approximate bytes of objects shipped inline in a closure; beyond, remote references. */
  closureBudget: number;
  /** The app's root folder: module fallback serves only files below it. */
  appRoot: string;
}

export const defaults: AgentOptions = {
  platform: 'local',
  mode: 'auto',
  ratio: 0,
  routes: [],
  shadowRuns: 3,
  sloMs: 100,
  workers: 2,
  admin: '127.0.0.1:9477',
  processMetrics: false,
  cpuProfile: false,
  quiet: false,
  channelListen: '127.0.0.1:0',
  timeoutMs: 30_000,
  conflictRetries: 3,
  closureBudget: 64 * 1024,
  appRoot: defaultAppRoot(),
};

/**
 * The app's own folder: the nearest one holding a package.json above the main script, wherever the
 * app was started from (a service manager's working folder is often `/`); the current folder when
 * there is no script (`node -e`) or no package.json above it.
 */
export function defaultAppRoot(script: string | null = process.argv[1] ?? null, cwd = process.cwd()): string {
  if (!script) return cwd;
  for (let dir = path.dirname(path.resolve(cwd, script)); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return cwd;
  }
}

type Kind = 'enum' | 'number' | 'int' | 'routes' | 'string' | 'hostport' | 'bool' | 'object';
interface Spec {
  /** The environment variable; none for options that only code can give. */
  env?: string;
  kind: Kind;
  values?: readonly string[];
  min?: number;
  max?: number;
  /** A URL scheme pattern the string must match, and its description. */
  pattern?: [RegExp, string];
  /** `off` is accepted besides host:port. */
  allowOff?: boolean;
  minLength?: number;
}

const SPECS: Record<keyof AgentOptions, Spec> = {
  platform: { env: 'BEEHIVE_PLATFORM', kind: 'enum', values: ['local', 'lambda', 'openwhisk'] },
  mode: { env: 'BEEHIVE_MODE', kind: 'enum', values: ['auto', 'manual', 'always', 'off'] },
  ratio: { env: 'BEEHIVE_RATIO', kind: 'number', min: 0, max: 1 },
  routes: { env: 'BEEHIVE_ROUTES', kind: 'routes' },
  shadowRuns: { env: 'BEEHIVE_SHADOW_RUNS', kind: 'int', min: 0 },
  sloMs: { env: 'BEEHIVE_SLO_MS', kind: 'int', min: 1 },
  workers: { env: 'BEEHIVE_WORKERS', kind: 'int', min: 1 },
  admin: { env: 'BEEHIVE_ADMIN', kind: 'hostport', allowOff: true },
  adminToken: { env: 'BEEHIVE_ADMIN_TOKEN', kind: 'string', minLength: 8 },
  processMetrics: { env: 'BEEHIVE_PROCESS_METRICS', kind: 'bool' },
  cpuProfile: { env: 'BEEHIVE_CPU_PROFILE', kind: 'bool' },
  quiet: { env: 'BEEHIVE_QUIET', kind: 'bool' },
  proxyUrl: { env: 'BEEHIVE_PROXY_URL', kind: 'string', pattern: [/^postgres(ql)?:\/\/\S+$/, 'a postgres:// URL'] },
  proxyControl: { env: 'BEEHIVE_PROXY_CONTROL', kind: 'string', pattern: [/^https?:\/\/\S+$/, 'an http:// URL'] },
  proxyControlToken: { env: 'BEEHIVE_PROXY_CONTROL_TOKEN', kind: 'string' },
  proxy: { kind: 'object' },
  statsFile: { env: 'BEEHIVE_STATS_FILE', kind: 'string' },
  callbackUrl: { env: 'BEEHIVE_CALLBACK_URL', kind: 'string', pattern: [/^wss?:\/\/\S+$/, 'a ws:// or wss:// URL'] },
  channelListen: { env: 'BEEHIVE_CHANNEL_LISTEN', kind: 'hostport' },
  channelTlsCert: { env: 'BEEHIVE_CHANNEL_TLS_CERT', kind: 'string' },
  channelTlsKey: { env: 'BEEHIVE_CHANNEL_TLS_KEY', kind: 'string' },
  timeoutMs: { env: 'BEEHIVE_TIMEOUT_MS', kind: 'int', min: 1 },
  conflictRetries: { env: 'BEEHIVE_CONFLICT_RETRIES', kind: 'int', min: 0, max: 20 },
  closureBudget: { env: 'BEEHIVE_CLOSURE_BUDGET', kind: 'int', min: 0 },
  appRoot: { env: 'BEEHIVE_APP_ROOT', kind: 'string' },
};

/**
 * Variables read elsewhere: by the FaaS providers when their platform is chosen (checked at start
 * by `checkStartup`), by the worker runtime, or set by the agent for its own worker processes.
 */
export const PLATFORM_VARIABLES = [
  'BEEHIVE_LAMBDA_FUNCTION',
  'BEEHIVE_LAMBDA_ENDPOINT',
  'BEEHIVE_LAMBDA_MEMORY',
  'BEEHIVE_OPENWHISK_APIHOST',
  'BEEHIVE_OPENWHISK_AUTH',
  'BEEHIVE_OPENWHISK_ACTION',
  'BEEHIVE_OPENWHISK_NAMESPACE',
  'BEEHIVE_OPENWHISK_MEMORY',
  'BEEHIVE_OPENWHISK_IGNORE_CERTS',
  'BEEHIVE_PRICE_GB_SECOND',
  'BEEHIVE_PRICE_PER_MILLION_REQUESTS',
  'BEEHIVE_CHANNEL_CA',
] as const;
/** Set by the agent for the worker processes it forks; never by users. */
export const INTERNAL_VARIABLES = ['BEEHIVE_ROLE', 'BEEHIVE_WORKER_ID', 'BEEHIVE_WORKER_PRELOAD'] as const;
/** Read only by this repository's tests. */
const TEST_VARIABLES = ['BEEHIVE_CHROMIUM', 'BEEHIVE_SKIP_BROWSER'];

/** Every variable a user may set, for the README table and the "did you mean" of a typo. */
export const ENV_VARIABLES: string[] = [
  ...Object.values(SPECS).flatMap((s) => (s.env ? [s.env] : [])),
  ...PLATFORM_VARIABLES,
];
const KNOWN_VARIABLES = new Set([...ENV_VARIABLES, ...INTERNAL_VARIABLES, ...TEST_VARIABLES]);

/** Levenshtein distance, for suggestions. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/** The closest of `names` to `given`, when it is close enough to be a typo. */
export function didYouMean(given: string, names: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const dist = distance(given.toLowerCase(), n.toLowerCase());
    if (dist < bestD) [best, bestD] = [n, dist];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(given.length / 3)) ? best : undefined;
}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const show = (v: unknown) => (typeof v === 'string' ? `'${v}'` : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Checks one value; `label` is what the user wrote it as, `raw` true for an environment string. */
function check(key: keyof AgentOptions, value: unknown, label: string, raw: boolean): unknown {
  const s = SPECS[key];
  const bad = (what: string): never => {
    throw ConfigErrors.INVALID(`${label} must be ${what}, got ${show(value)}`);
  };
  switch (s.kind) {
    case 'enum':
      if (typeof value !== 'string' || !s.values!.includes(value)) bad(`one of ${s.values!.join(', ')}`);
      return value;
    case 'number':
    case 'int': {
      const n = raw && typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      const int = s.kind === 'int';
      const range = s.max !== undefined ? `from ${s.min} to ${s.max}` : s.min === 0 ? '>= 0' : `>= ${s.min}`;
      if (typeof n !== 'number' || !Number.isFinite(n) || (int && !Number.isInteger(n)) || n < (s.min ?? -Infinity) || n > (s.max ?? Infinity)) {
        bad(`${int ? 'an integer' : 'a number'} ${range}`);
      }
      return n;
    }
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (raw && typeof value === 'string' && /^(1|true|yes|on)$/i.test(value)) return true;
      if (raw && typeof value === 'string' && /^(0|false|no|off)$/i.test(value)) return false;
      return bad(raw ? '1 or 0 (true/false)' : 'a boolean');
    case 'routes': {
      const list = raw && typeof value === 'string' ? value.split(',').map((x) => x.trim()).filter(Boolean) : value;
      if (!Array.isArray(list) || list.some((r) => typeof r !== 'string' || !/^[A-Z]+ \S+$/.test(r))) {
        bad(raw ? "a comma-separated list like 'GET /thumb,POST /topics/:id/comments'" : "a list like ['GET /path']");
      }
      return list;
    }
    case 'hostport': {
      if (s.allowOff && value === 'off') return value;
      const m = typeof value === 'string' ? HOST_PORT.exec(value) : null;
      if (!m || Number(m[2]) > 65535) bad(`host:port${s.allowOff ? " or 'off'" : ''}`);
      return value;
    }
    case 'string':
      if (typeof value !== 'string' || value === '') bad('a non-empty string');
      if (s.minLength && (value as string).length < s.minLength) bad(`a string of at least ${s.minLength} characters`);
      if (s.pattern && !s.pattern[0].test(value as string)) bad(s.pattern[1]);
      return value;
    case 'object':
      if (value === null || typeof value !== 'object') bad('an object');
      return value;
  }
}

/** Where each resolved value came from (variable or configure() key), for messages that name it. */
type OptionSources = Partial<Record<keyof AgentOptions, string>>;
const kSources = Symbol.for('beehive.optionSources');
const sourcesOf = (o: object): OptionSources | undefined => (o as Record<symbol, OptionSources | undefined>)[kSources];

/** How the user wrote `key`: its variable or its configure() key. */
export function labelOf(o: AgentOptions, key: keyof AgentOptions): string {
  return sourcesOf(o)?.[key] ?? SPECS[key].env ?? `configure({ ${key} })`;
}

/** Where a value came from, for the event log: its variable, its configure() key, or 'default'. */
export function originOf(o: AgentOptions, key: keyof AgentOptions): string {
  return sourcesOf(o)?.[key] ?? 'default';
}

/** Whether `o` came out of `loadOptions`/`resolveOptions` (checked already). */
export function isResolved(o: object): o is AgentOptions {
  return sourcesOf(o) !== undefined;
}

function readEnv(env: NodeJS.ProcessEnv): { values: Partial<AgentOptions>; sources: OptionSources } {
  for (const name of Object.keys(env)) {
    if (!name.startsWith('BEEHIVE_') || KNOWN_VARIABLES.has(name) || env[name] === undefined) continue;
    const near = didYouMean(name, KNOWN_VARIABLES);
    throw ConfigErrors.UNKNOWN(`${name} is not a BeeHive variable${near ? ` (did you mean ${near}?)` : ''}; the README lists them`);
  }
  const values: Record<string, unknown> = {};
  const sources: OptionSources = {};
  for (const [key, s] of Object.entries(SPECS) as Array<[keyof AgentOptions, Spec]>) {
    const raw = s.env ? env[s.env] : undefined;
    if (raw === undefined || raw === '') continue;
    values[key] = check(key, raw, s.env!, true);
    sources[key] = s.env!;
  }
  return { values: values as Partial<AgentOptions>, sources };
}

function readGiven(given: unknown): { values: Partial<AgentOptions>; sources: OptionSources } {
  if (given === null || typeof given !== 'object' || Array.isArray(given)) throw ConfigErrors.INVALID(`configure() takes an options object, got ${show(given)}`);
  const values: Record<string, unknown> = {};
  const sources: OptionSources = {};
  for (const [k, v] of Object.entries(given)) {
    if (!Object.prototype.hasOwnProperty.call(SPECS, k)) {
      const near = didYouMean(k, Object.keys(SPECS));
      throw ConfigErrors.UNKNOWN(`configure({ ${k} }) is not an option${near ? ` (did you mean '${near}'?)` : ''}`);
    }
    if (v === undefined) continue;
    const key = k as keyof AgentOptions;
    values[key] = check(key, v, `configure({ ${key} })`, false);
    sources[key] = `configure({ ${key} })`;
  }
  return { values: values as Partial<AgentOptions>, sources };
}

/** Checks and merges: defaults, then the BEEHIVE_* variables of `env`, then the configure() keys. */
export function loadOptions(given: Partial<AgentOptions> = {}, env: NodeJS.ProcessEnv = process.env): AgentOptions {
  const e = readEnv(env);
  const g = readGiven(given);
  const r = { ...defaults, ...e.values, ...g.values } as AgentOptions;
  Object.defineProperty(r, kSources, { value: { ...e.sources, ...g.sources }, enumerable: false });
  if ((r.channelTlsCert === undefined) !== (r.channelTlsKey === undefined)) {
    throw ConfigErrors.MISSING(`${labelOf(r, 'channelTlsCert')} and ${labelOf(r, 'channelTlsKey')} go together`);
  }
  if (r.proxyControl !== undefined && !r.proxyControlToken) {
    throw ConfigErrors.MISSING(`${labelOf(r, 'proxyControlToken')} is required with ${labelOf(r, 'proxyControl')}`);
  }
  return r;
}

/** configure() keys alone, without the environment (already-resolved options pass through). */
export function resolveOptions(given: Partial<AgentOptions> = {}): AgentOptions {
  return isResolved(given) ? given : loadOptions(given, {});
}

/** The BEEHIVE_* variables alone, checked (an unknown BEEHIVE_* variable is refused). */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<AgentOptions> {
  return readEnv(env).values;
}

/** The configure() keys of `given` whose values differ from the running `current` options. */
export function changedOptions(current: AgentOptions, given: Partial<AgentOptions>): Array<keyof AgentOptions> {
  const { values } = readGiven(given);
  return (Object.keys(values) as Array<keyof AgentOptions>).filter((k) => {
    const [a, b] = [values[k], current[k]];
    if (a === b) return false;
    return !(Array.isArray(a) && Array.isArray(b) && a.join('\n') === b.join('\n'));
  });
}

const isLoopbackHost = (h: string) => /^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?|0:0:0:0:0:0:0:1)$/i.test(h);

function loopbackUrl(u: string | undefined): boolean {
  if (!u) return false;
  try {
    return isLoopbackHost(new URL(u).hostname.replace(/^\[|\]$/g, ''));
  } catch {
    return false;
  }
}

const PEERS: Record<Exclude<Platform, 'local'>, string> = { lambda: '@aws-sdk/client-lambda', openwhisk: 'openwhisk' };

/** Whether `name` can be loaded from here (the agent's own folder, as its providers load it). */
function resolvable(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * What can be known wrong before the first request: the platform's settings, the platform's SDK
 * (an optional peer dependency), and a callback address the platform's workers could not reach.
 */
export function checkStartup(o: AgentOptions, env: NodeJS.ProcessEnv = process.env, canLoad: (name: string) => boolean = resolvable): void {
  if (o.platform === 'local' || o.mode === 'off') return;
  const platform = labelOf(o, 'platform');
  const needs = (names: string[]) => {
    const missing = names.filter((n) => !env[n]);
    if (missing.length) throw ConfigErrors.MISSING(`${platform}=${o.platform} needs ${missing.join(' and ')}`);
  };
  let endpoint: string | undefined;
  if (o.platform === 'lambda') {
    needs(['BEEHIVE_LAMBDA_FUNCTION']);
    endpoint = env.BEEHIVE_LAMBDA_ENDPOINT;
  } else {
    needs(['BEEHIVE_OPENWHISK_APIHOST', 'BEEHIVE_OPENWHISK_AUTH', 'BEEHIVE_OPENWHISK_ACTION']);
    endpoint = /^https?:\/\//.test(env.BEEHIVE_OPENWHISK_APIHOST!) ? env.BEEHIVE_OPENWHISK_APIHOST : `https://${env.BEEHIVE_OPENWHISK_APIHOST}`;
  }
  const pkg = PEERS[o.platform];
  if (!canLoad(pkg)) throw ConfigErrors.PEER_MISSING(`${platform}=${o.platform} needs the package ${pkg}: npm install ${pkg}`);
  // Workers of a platform on this machine (an emulator on loopback) can reach a loopback channel;
  // remote ones cannot, and every offload would fail.
  const listenHost = o.channelListen.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (o.callbackUrl === undefined && isLoopbackHost(listenHost) && !loopbackUrl(endpoint)) {
    throw ConfigErrors.MISSING(
      `${platform}=${o.platform} needs BEEHIVE_CALLBACK_URL (the ws:// or wss:// address its workers reach the server at): ` +
        `the channel listens on ${o.channelListen} (${labelOf(o, 'channelListen')}), which remote workers cannot reach`,
    );
  }
}

/** The variable behind each option of the FaaS providers, for their messages (`options.memoryMB`). */
const PROVIDER_VARIABLES: Record<'lambda' | 'openwhisk', Record<string, string>> = {
  lambda: { functionName: 'BEEHIVE_LAMBDA_FUNCTION', qualifier: 'BEEHIVE_LAMBDA_FUNCTION', endpoint: 'BEEHIVE_LAMBDA_ENDPOINT', memoryMB: 'BEEHIVE_LAMBDA_MEMORY' },
  openwhisk: {
    apihost: 'BEEHIVE_OPENWHISK_APIHOST',
    auth: 'BEEHIVE_OPENWHISK_AUTH',
    action: 'BEEHIVE_OPENWHISK_ACTION',
    namespace: 'BEEHIVE_OPENWHISK_NAMESPACE',
    memoryMB: 'BEEHIVE_OPENWHISK_MEMORY',
    ignoreCerts: 'BEEHIVE_OPENWHISK_IGNORE_CERTS',
  },
};
const PRICE_VARIABLES: Record<string, string> = { perGbSecond: 'BEEHIVE_PRICE_GB_SECOND', perMillionRequests: 'BEEHIVE_PRICE_PER_MILLION_REQUESTS' };

/**
 * A FaaS provider's option error (it speaks of `options.memoryMB`, as its API does) as the
 * configuration error of the variable the user set.
 */
export function providerConfigError(platform: 'lambda' | 'openwhisk', err: unknown): Error {
  // The provider's own prefix ("option out of range: ") gives way to the configuration's.
  const message = String((err as Error)?.message ?? err).replace(/^(?:invalid option|option out of range): /, '').replace(/\boptions\.(?:prices\.)?([A-Za-z]+)/g, (whole, key: string) => PROVIDER_VARIABLES[platform][key] ?? PRICE_VARIABLES[key] ?? whole);
  return ConfigErrors.INVALID(message, { cause: err });
}

export function splitHostPort(s: string): { host: string; port: number } {
  const m = HOST_PORT.exec(s)!;
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}
