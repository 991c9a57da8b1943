/**
 * Options of `startProxy`, their defaults and their validation (TypeError for a wrong type,
 * RangeError for a value out of range, messages naming the option).
 */
import type { SecureContextOptions } from 'node:tls';
import type { UpstreamConfig } from './upstream/backend';
import { ProxyOptionErrors } from './option-errors';

export type PoolMode = 'transaction' | 'session';
export type ClientAuth = 'scram-sha-256' | 'trust';
export type ServerUser = 'client' | 'upstream';

export interface ProxyOptions {
  /** The PostgreSQL server: `postgres://user:pass@host:port/db` or its parts. Required. */
  upstream: string | UpstreamConfig;
  /** Where clients connect. Default `{ host: '127.0.0.1', port: 6432 }`; port 0 picks a free one. */
  listen?: { host?: string; port?: number };
  /** `transaction` (default): a backend per transaction, session state pins; `session`: a backend per client. */
  poolMode?: PoolMode;
  /** Server connections at most. Default 10. */
  maxBackends?: number;
  /** Client connections at most; more get SQLSTATE 53300. Default 10000. */
  maxClients?: number;
  /** How clients authenticate. Default `scram-sha-256`. */
  auth?: ClientAuth;
  /** Client users and passwords. Default: the upstream user and password. */
  users?: Record<string, string>;
  /** TLS towards clients (SSLRequest answered 'S'); absent: 'N'. */
  tls?: SecureContextOptions;
  /** Loopback HTTP control endpoint; absent: none. The token is required as a bearer token. */
  control?: { host?: string; port?: number; token: string };
  /** Lifetime of a prepared hand-off id. Default 30000 ms. */
  handoffTtlMs?: number;
  /** How long a client waits for a free backend before SQLSTATE 53300. Default 30000 ms. */
  acquireTimeoutMs?: number;
  /** Timeout of one upstream connection attempt. Default 10000 ms. */
  connectTimeoutMs?: number;
  /** Idle backends beyond one are closed after this long. Default 60000 ms. */
  idleTimeoutMs?: number;
  /** Largest client message buffered (CopyData streams past it). Default 64 MiB. */
  maxMessageSize?: number;
  /** How long cleaning a backend after a vanished client may take before it is closed. Default 5000 ms. */
  cleanupTimeoutMs?: number;
  /**
   * A client that has not authenticated this long after connecting is closed (FATAL 08006), as
   * PgBouncer's client_login_timeout and PostgreSQL's authentication_timeout do. Default 15000 ms.
   */
  loginTimeoutMs?: number;
  /**
   * Users who may open the admin console (database `pgbouncer`: SHOW POOLS, PAUSE, ...). Default:
   * the upstream user.
   */
  adminUsers?: string[];
  /**
   * The server databases clients may name (one pool per database and user, as PgBouncer keeps);
   * `'*'` lets a client name any (the server then refuses one it lacks with its own error).
   * Default: the upstream's database only. Others get FATAL 3D000.
   */
  databases?: string[];
  /**
   * Whom backends log in as: `'client'` (default) the client's own user, with the password the
   * proxy has for it in `users` (the upstream user: the upstream password), one pool per database
   * and user; `'upstream'` every client's backends log in as the upstream user.
   */
  serverUser?: ServerUser;
  /**
   * A JSON file of these options (configFile excepted); options given here override it. RELOAD on
   * the admin console (or `reload()`) reads it again and applies what can change while running.
   */
  configFile?: string;
}

export interface ResolvedProxyOptions {
  upstream: UpstreamConfig;
  listen: { host: string; port: number };
  poolMode: PoolMode;
  maxBackends: number;
  maxClients: number;
  auth: ClientAuth;
  users: Record<string, string>;
  tls: SecureContextOptions | null;
  control: { host: string; port: number; token: string } | null;
  handoffTtlMs: number;
  acquireTimeoutMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxMessageSize: number;
  cleanupTimeoutMs: number;
  loginTimeoutMs: number;
  adminUsers: string[];
  databases: string[];
  serverUser: ServerUser;
  configFile: string | null;
}

export const kDefaults = {
  listen: { host: '127.0.0.1', port: 6432 },
  poolMode: 'transaction' as PoolMode,
  maxBackends: 10,
  maxClients: 10_000,
  auth: 'scram-sha-256' as ClientAuth,
  handoffTtlMs: 30_000,
  acquireTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  maxMessageSize: 64 * 1024 * 1024,
  cleanupTimeoutMs: 5_000,
  loginTimeoutMs: 15_000,
};

/** setTimeout's largest delay (a larger one fires at once); an hour for the lifetime of hand-off ids. */
const kMaxTimerMs = 2_147_483_647;
const kMaxTtlMs = 3_600_000;
/** PostgreSQL's own limit on one message (MaxAllocSize). */
const kMaxMessage = 1024 * 1024 * 1024 - 1;

/**
 * Parses `postgres://user:pass@host:port/db`; throws TypeError naming `what`. As in libpq, a
 * `?host=/dir` parameter (or a host starting with `/`) means the server's Unix socket in that
 * directory (`/dir/.s.PGSQL.<port>`): cheaper than TCP when the server is on the same machine.
 */
export function parseUpstreamUrl(url: string, what = 'options.upstream'): UpstreamConfig {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw ProxyOptionErrors.OPTION_TYPE(`${what} must be a postgres:// URL`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw ProxyOptionErrors.OPTION_TYPE(`${what} must be a postgres:// URL`);
  const user = decodeURIComponent(u.username);
  if (!user) throw ProxyOptionErrors.OPTION_TYPE(`${what} must name a user`);
  const socketDir = u.searchParams.get('host');
  if (socketDir !== null && !socketDir.startsWith('/')) throw ProxyOptionErrors.OPTION_TYPE(`${what}: the host parameter must be a socket directory (an absolute path)`);
  return {
    host: socketDir ?? (u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1'),
    port: u.port ? Number(u.port) : 5432,
    user,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.slice(1)) || user,
  };
}

function positiveInt(o: Record<string, unknown>, key: string, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw ProxyOptionErrors.OPTION_TYPE(`options.${key} must be a positive integer`);
  if (v < 1) throw ProxyOptionErrors.OPTION_RANGE(`options.${key} must be a positive integer`);
  if (v > max) throw ProxyOptionErrors.OPTION_RANGE(`options.${key} must be at most ${max}`);
  return v;
}

function port(v: unknown, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw ProxyOptionErrors.OPTION_TYPE(`${what} must be an integer`);
  if (v < 0 || v > 65535) throw ProxyOptionErrors.OPTION_RANGE(`${what} must be between 0 and 65535`);
  return v;
}

function host(v: unknown, what: string, dflt: string): string {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || v === '') throw ProxyOptionErrors.OPTION_TYPE(`${what} must be a non-empty string`);
  return v;
}

export function resolveOptions(options: ProxyOptions): ResolvedProxyOptions {
  if (options === null || typeof options !== 'object') throw ProxyOptionErrors.OPTION_TYPE('options must be an object');
  const o = options as unknown as Record<string, unknown>;
  let upstream: UpstreamConfig;
  if (typeof options.upstream === 'string') upstream = parseUpstreamUrl(options.upstream);
  else if (options.upstream && typeof options.upstream === 'object') {
    const u = options.upstream;
    if (typeof u.user !== 'string' || !u.user) throw ProxyOptionErrors.OPTION_TYPE('options.upstream.user must be a non-empty string');
    upstream = { ...u, host: host(u.host, 'options.upstream.host', '127.0.0.1'), port: port(u.port, 'options.upstream.port', 5432), database: u.database || u.user };
  } else throw ProxyOptionErrors.OPTION_TYPE('options.upstream must be a postgres:// URL or an object');

  const listen = options.listen ?? {};
  if (typeof listen !== 'object') throw ProxyOptionErrors.OPTION_TYPE('options.listen must be an object');
  const poolMode = options.poolMode ?? kDefaults.poolMode;
  if (poolMode !== 'transaction' && poolMode !== 'session') throw ProxyOptionErrors.OPTION_TYPE("options.poolMode must be 'transaction' or 'session'");
  const auth = options.auth ?? kDefaults.auth;
  if (auth !== 'scram-sha-256' && auth !== 'trust') throw ProxyOptionErrors.OPTION_TYPE("options.auth must be 'scram-sha-256' or 'trust'");
  let users = options.users;
  if (users === undefined) users = upstream.password !== undefined ? { [upstream.user]: upstream.password } : {};
  else if (users === null || typeof users !== 'object' || Object.values(users).some((p) => typeof p !== 'string')) {
    throw ProxyOptionErrors.OPTION_TYPE('options.users must map user names to password strings');
  }
  if (options.tls !== undefined && (options.tls === null || typeof options.tls !== 'object')) throw ProxyOptionErrors.OPTION_TYPE('options.tls must be an object');
  let control: ResolvedProxyOptions['control'] = null;
  if (options.control !== undefined) {
    const c = options.control;
    if (c === null || typeof c !== 'object') throw ProxyOptionErrors.OPTION_TYPE('options.control must be an object');
    if (typeof c.token !== 'string' || c.token.length < 16) throw ProxyOptionErrors.OPTION_TYPE('options.control.token must be a string of at least 16 characters');
    control = { host: host(c.host, 'options.control.host', '127.0.0.1'), port: port(c.port, 'options.control.port', 0), token: c.token };
  }
  const adminUsers = options.adminUsers ?? [upstream.user];
  if (!Array.isArray(adminUsers) || adminUsers.some((u) => typeof u !== 'string' || u === '')) throw ProxyOptionErrors.OPTION_TYPE('options.adminUsers must be an array of user names');
  if (options.configFile !== undefined && (typeof options.configFile !== 'string' || options.configFile === '')) throw ProxyOptionErrors.OPTION_TYPE('options.configFile must be a file path');
  const databases = options.databases ?? [upstream.database];
  if (!Array.isArray(databases) || databases.length === 0 || databases.some((d) => typeof d !== 'string' || d === '')) {
    throw ProxyOptionErrors.OPTION_TYPE("options.databases must be a non-empty array of database names (or '*')");
  }
  const serverUser = options.serverUser ?? 'client';
  if (serverUser !== 'client' && serverUser !== 'upstream') throw ProxyOptionErrors.OPTION_TYPE("options.serverUser must be 'client' or 'upstream'");
  return {
    upstream,
    listen: { host: host(listen.host, 'options.listen.host', kDefaults.listen.host), port: port(listen.port, 'options.listen.port', kDefaults.listen.port) },
    poolMode,
    maxBackends: positiveInt(o, 'maxBackends', kDefaults.maxBackends),
    maxClients: positiveInt(o, 'maxClients', kDefaults.maxClients),
    auth,
    users,
    tls: options.tls ?? null,
    control,
    handoffTtlMs: positiveInt(o, 'handoffTtlMs', kDefaults.handoffTtlMs, kMaxTtlMs),
    acquireTimeoutMs: positiveInt(o, 'acquireTimeoutMs', kDefaults.acquireTimeoutMs, kMaxTimerMs),
    connectTimeoutMs: positiveInt(o, 'connectTimeoutMs', kDefaults.connectTimeoutMs, kMaxTimerMs),
    idleTimeoutMs: positiveInt(o, 'idleTimeoutMs', kDefaults.idleTimeoutMs, kMaxTimerMs),
    maxMessageSize: positiveInt(o, 'maxMessageSize', kDefaults.maxMessageSize, kMaxMessage),
    cleanupTimeoutMs: positiveInt(o, 'cleanupTimeoutMs', kDefaults.cleanupTimeoutMs, kMaxTimerMs),
    loginTimeoutMs: positiveInt(o, 'loginTimeoutMs', kDefaults.loginTimeoutMs, kMaxTimerMs),
    adminUsers: [...adminUsers],
    databases: [...databases],
    serverUser,
    configFile: options.configFile ?? null,
  };
}
