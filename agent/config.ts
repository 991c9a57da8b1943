import type { AgentMode, Platform } from './state';

/** Agent configuration: environment variables (DESIGN.md §5), or the same names camelCased in `configure()`. */
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
  channelListen: '127.0.0.1:0',
  timeoutMs: 30_000,
  closureBudget: 64 * 1024,
  appRoot: process.cwd(),
};

const ENV: Record<keyof AgentOptions, string> = {
  platform: 'BEEHIVE_PLATFORM',
  mode: 'BEEHIVE_MODE',
  ratio: 'BEEHIVE_RATIO',
  routes: 'BEEHIVE_ROUTES',
  shadowRuns: 'BEEHIVE_SHADOW_RUNS',
  sloMs: 'BEEHIVE_SLO_MS',
  workers: 'BEEHIVE_WORKERS',
  admin: 'BEEHIVE_ADMIN',
  adminToken: 'BEEHIVE_ADMIN_TOKEN',
  proxyUrl: 'BEEHIVE_PROXY_URL',
  proxyControl: 'BEEHIVE_PROXY_CONTROL',
  proxyControlToken: 'BEEHIVE_PROXY_CONTROL_TOKEN',
  proxy: '',
  statsFile: 'BEEHIVE_STATS_FILE',
  callbackUrl: 'BEEHIVE_CALLBACK_URL',
  channelListen: 'BEEHIVE_CHANNEL_LISTEN',
  channelTlsCert: 'BEEHIVE_CHANNEL_TLS_CERT',
  channelTlsKey: 'BEEHIVE_CHANNEL_TLS_KEY',
  timeoutMs: 'BEEHIVE_TIMEOUT_MS',
  closureBudget: 'BEEHIVE_CLOSURE_BUDGET',
  appRoot: 'BEEHIVE_APP_ROOT',
};

/** Reads the BEEHIVE_* variables; invalid values throw with the variable's name. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<AgentOptions> {
  const out: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV) as Array<[keyof AgentOptions, string]>) {
    const raw = name ? env[name] : undefined;
    if (raw === undefined || raw === '') continue;
    const num = (int: boolean) => {
      const n = Number(raw);
      if (!Number.isFinite(n) || (int && !Number.isInteger(n))) throw new TypeError(`${name} must be ${int ? 'an integer' : 'a number'}, got '${raw}'`);
      return n;
    };
    switch (key) {
      case 'ratio':
        out[key] = num(false);
        break;
      case 'shadowRuns':
      case 'sloMs':
      case 'workers':
      case 'timeoutMs':
      case 'closureBudget':
        out[key] = num(true);
        break;
      case 'routes':
        out[key] = raw.split(',').map((s) => s.trim()).filter(Boolean);
        break;
      default:
        out[key] = raw;
    }
  }
  return out as Partial<AgentOptions>;
}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Merges and validates (piscina style: TypeError / RangeError naming the option). */
export function resolveOptions(given: Partial<AgentOptions> = {}): AgentOptions {
  const o: AgentOptions = { ...defaults, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  if (!['local', 'lambda', 'openwhisk'].includes(o.platform)) throw new TypeError(`options.platform must be one of local, lambda, openwhisk, got '${o.platform}'`);
  if (!['auto', 'manual', 'always', 'off'].includes(o.mode)) throw new TypeError(`options.mode must be one of auto, manual, always, off, got '${o.mode}'`);
  if (typeof o.ratio !== 'number' || !(o.ratio >= 0 && o.ratio <= 1)) throw new RangeError('options.ratio must be a number from 0 to 1');
  if (!Array.isArray(o.routes) || o.routes.some((r) => typeof r !== 'string' || !/^[A-Z]+ \S+$/.test(r))) {
    throw new TypeError("options.routes must be a list like 'GET /path'");
  }
  for (const k of ['shadowRuns', 'sloMs', 'workers', 'timeoutMs', 'closureBudget'] as const) {
    const v = o[k];
    const min = k === 'shadowRuns' || k === 'closureBudget' ? 0 : 1;
    if (!Number.isInteger(v) || v < min) throw new RangeError(`options.${k} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer`);
  }
  for (const k of ['admin', 'channelListen'] as const) {
    if (k === 'admin' && o.admin === 'off') continue;
    const m = HOST_PORT.exec(o[k]);
    if (!m || Number(m[2]) > 65535) throw new TypeError(`options.${k} must be host:port, got '${o[k]}'`);
  }
  if (o.callbackUrl !== undefined && !/^wss?:\/\/\S+$/.test(o.callbackUrl)) throw new TypeError('options.callbackUrl must be a ws:// or wss:// URL');
  if (o.proxyUrl !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(o.proxyUrl)) throw new TypeError('options.proxyUrl must be a postgres:// URL');
  if ((o.channelTlsCert === undefined) !== (o.channelTlsKey === undefined)) throw new TypeError('options.channelTlsCert and options.channelTlsKey go together');
  if (o.proxyControl !== undefined && !/^https?:\/\/\S+$/.test(o.proxyControl)) throw new TypeError('options.proxyControl must be an http:// URL');
  if (o.proxyControl !== undefined && !o.proxyControlToken) throw new TypeError('options.proxyControlToken is required with options.proxyControl');
  if (o.adminToken !== undefined && (typeof o.adminToken !== 'string' || o.adminToken.length < 8)) throw new TypeError('options.adminToken must be a string of at least 8 characters');
  return o;
}

export function splitHostPort(s: string): { host: string; port: number } {
  const m = HOST_PORT.exec(s)!;
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}
