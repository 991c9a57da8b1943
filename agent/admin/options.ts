/**
 * Options of the admin server, validated at start (piscina style: a defaults object, TypeError for
 * a wrong type, RangeError for a value out of range, messages naming the option).
 */
import type { AgentControl } from '../state';
import type { SeriesOptions, SeriesSampler } from './series';
import { isLoopbackAddress } from './http-util';
import { AdminOptionErrors } from './option-errors';

export interface AdminOptions {
  /** The running agent. */
  control: AgentControl;
  /** Interface to bind. Default `127.0.0.1` (loopback only). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 9477. */
  port?: number;
  /** Bearer token that `PUT` requests must present (`BEEHIVE_ADMIN_TOKEN`). No default. */
  token?: string;
  /**
   * Without a token, changes are refused (403). Setting this allows them without a token, and only
   * when the server is bound to a loopback address. Default false.
   */
  allowUnauthenticatedChanges?: boolean;
  /** Time series for the charts: a sampler the caller owns, options for one the server owns, or false. */
  series?: SeriesSampler | SeriesOptions | false;
  /** Also export prom-client's default process metrics on /metrics. Default false. */
  defaultMetrics?: boolean;
  /** Largest accepted request body in bytes. Default 4096. */
  bodyLimit?: number;
}

export interface ResolvedAdminOptions {
  control: AgentControl;
  host: string;
  port: number;
  token: string | undefined;
  allowUnauthenticatedChanges: boolean;
  series: SeriesSampler | SeriesOptions | false;
  defaultMetrics: boolean;
  bodyLimit: number;
}

export const kAdminDefaults = {
  host: '127.0.0.1',
  port: 9477,
  allowUnauthenticatedChanges: false,
  series: {} as SeriesOptions,
  defaultMetrics: false,
  bodyLimit: 4096,
};

function intIn(value: unknown, name: string, min: number, max: number): number {
  const message = `options.${name} must be an integer from ${min} to ${max}`;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw AdminOptionErrors.OPTION_TYPE(message);
  if (value < min || value > max) throw AdminOptionErrors.OPTION_RANGE(message);
  return value;
}

function bool(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw AdminOptionErrors.OPTION_TYPE(`options.${name} must be a boolean`);
  return value;
}

export function validateAdminOptions(options: AdminOptions): ResolvedAdminOptions {
  if (options === null || typeof options !== 'object') throw AdminOptionErrors.OPTION_TYPE('options must be an object');
  const o = { ...kAdminDefaults, ...stripUndefined(options) };
  const c = o.control as Partial<AgentControl> | undefined;
  if (!c || typeof c.getState !== 'function' || typeof c.setRatio !== 'function' || typeof c.setHandlerMode !== 'function') {
    throw AdminOptionErrors.OPTION_TYPE('options.control must be an object with getState, setRatio and setHandlerMode functions');
  }
  if (typeof o.host !== 'string' || o.host === '') throw AdminOptionErrors.OPTION_TYPE('options.host must be a non-empty string');
  intIn(o.port, 'port', 0, 65535);
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token === '')) {
    throw AdminOptionErrors.OPTION_TYPE('options.token must be a non-empty string');
  }
  if (typeof o.token === 'string' && /\s/.test(o.token)) throw AdminOptionErrors.OPTION_RANGE('options.token must not contain whitespace');
  bool(o.allowUnauthenticatedChanges, 'allowUnauthenticatedChanges');
  if (o.allowUnauthenticatedChanges && !isLoopbackAddress(o.host)) {
    throw AdminOptionErrors.OPTION_RANGE('options.allowUnauthenticatedChanges requires a loopback host');
  }
  if (o.series !== false && (o.series === null || typeof o.series !== 'object')) {
    throw AdminOptionErrors.OPTION_TYPE('options.series must be a series sampler, an options object or false');
  }
  bool(o.defaultMetrics, 'defaultMetrics');
  intIn(o.bodyLimit, 'bodyLimit', 64, 1_048_576);
  return o as ResolvedAdminOptions;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Parses `BEEHIVE_ADMIN` (`host:port`, `[::1]:port` or `:port`). */
export function parseAdminAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value.trim());
  if (!m) throw AdminOptionErrors.OPTION_RANGE(`BEEHIVE_ADMIN must be host:port, got "${value}"`);
  const port = Number(m[3]);
  if (port > 65535) throw AdminOptionErrors.OPTION_RANGE(`BEEHIVE_ADMIN port must be from 0 to 65535, got ${port}`);
  return { host: m[1] ?? (m[2] || kAdminDefaults.host), port };
}
