/**
 * Errors of the PostgreSQL proxy. Each code is documented in docs/errors/proxy.md (a test checks it).
 * On the wire an error becomes an ErrorResponse whose SQLSTATE comes from `sqlstateOf`.
 */
import { defineErrors, type BeehiveError } from '../protocol/index';

export const ProxyErrors = defineErrors('PROXY', {
  PROTOCOL_VIOLATION: ['BEEHIVE_ERR_PROXY_PROTOCOL_VIOLATION', 'protocol violation'],
  MESSAGE_TOO_LARGE: ['BEEHIVE_ERR_PROXY_MESSAGE_TOO_LARGE', 'message too large'],
  UNKNOWN_MESSAGE: ['BEEHIVE_ERR_PROXY_UNKNOWN_MESSAGE', 'unknown message type'],
  UNSUPPORTED_PROTOCOL: ['BEEHIVE_ERR_PROXY_UNSUPPORTED_PROTOCOL', 'unsupported frontend protocol'],
  AUTH_FAILED: ['BEEHIVE_ERR_PROXY_AUTH_FAILED', 'authentication failed'],
  AUTH_UNSUPPORTED: ['BEEHIVE_ERR_PROXY_AUTH_UNSUPPORTED', 'unsupported authentication method'],
  UNKNOWN_DATABASE: ['BEEHIVE_ERR_PROXY_UNKNOWN_DATABASE', 'database not served by this proxy'],
  REPLICATION_UNSUPPORTED: ['BEEHIVE_ERR_PROXY_REPLICATION_UNSUPPORTED', 'replication connections are not supported'],
  ADMIN_NOT_ALLOWED: ['BEEHIVE_ERR_PROXY_ADMIN_NOT_ALLOWED', 'not an admin user of the proxy'],
  ADMIN_UNKNOWN_COMMAND: ['BEEHIVE_ERR_PROXY_ADMIN_UNKNOWN_COMMAND', 'unknown admin console command'],
  ADMIN_UNSUPPORTED: ['BEEHIVE_ERR_PROXY_ADMIN_UNSUPPORTED', 'not supported by the admin console'],
  ADMIN_BAD_STATE: ['BEEHIVE_ERR_PROXY_ADMIN_BAD_STATE', 'admin command not possible now'],
  CONFIG_MISSING: ['BEEHIVE_ERR_PROXY_CONFIG_MISSING', 'no configuration file'],
  CONFIG_UNREADABLE: ['BEEHIVE_ERR_PROXY_CONFIG_UNREADABLE', 'cannot read the configuration file'],
  CONFIG_INVALID: ['BEEHIVE_ERR_PROXY_CONFIG_INVALID', 'invalid configuration file'],
  HANDOFF_UNKNOWN: ['BEEHIVE_ERR_PROXY_HANDOFF_UNKNOWN', 'unknown hand-off id'],
  HANDOFF_USED: ['BEEHIVE_ERR_PROXY_HANDOFF_USED', 'hand-off id already used'],
  HANDOFF_EXPIRED: ['BEEHIVE_ERR_PROXY_HANDOFF_EXPIRED', 'hand-off id expired'],
  HANDOFF_TARGET_GONE: ['BEEHIVE_ERR_PROXY_HANDOFF_TARGET_GONE', 'connection of the hand-off is gone'],
  HANDOFF_NOT_DEFERRED: ['BEEHIVE_ERR_PROXY_HANDOFF_NOT_DEFERRED', 'hand-off was not prepared with deferCommit'],
  HANDOFF_FINISHED: ['BEEHIVE_ERR_PROXY_HANDOFF_FINISHED', 'hand-off finished: the worker connection is closed'],
  HANDOFF_COMMIT_FAILED: ['BEEHIVE_ERR_PROXY_HANDOFF_COMMIT_FAILED', 'deferred commit of the hand-off failed'],
  SESSION_NOT_FOUND: ['BEEHIVE_ERR_PROXY_SESSION_NOT_FOUND', 'no client session with that process id and secret key'],
  TOO_MANY_CLIENTS: ['BEEHIVE_ERR_PROXY_TOO_MANY_CLIENTS', 'too many client connections'],
  POOL_TIMEOUT: ['BEEHIVE_ERR_PROXY_POOL_TIMEOUT', 'timed out waiting for a backend connection'],
  UPSTREAM_CONNECT: ['BEEHIVE_ERR_PROXY_UPSTREAM_CONNECT', 'cannot connect to the upstream server'],
  UPSTREAM_AUTH: ['BEEHIVE_ERR_PROXY_UPSTREAM_AUTH', 'upstream authentication failed'],
  UPSTREAM_LOST: ['BEEHIVE_ERR_PROXY_UPSTREAM_LOST', 'upstream connection lost'],
  SHUTDOWN: ['BEEHIVE_ERR_PROXY_SHUTDOWN', 'proxy is shutting down'],
  CONTROL_AUTH: ['BEEHIVE_ERR_PROXY_CONTROL_AUTH', 'control request not authorised'],
  CONTROL_BAD_REQUEST: ['BEEHIVE_ERR_PROXY_CONTROL_BAD_REQUEST', 'bad control request'],
  CONTROL_UNAVAILABLE: ['BEEHIVE_ERR_PROXY_CONTROL_UNAVAILABLE', 'proxy control endpoint unreachable'],
  LOGIN_TIMEOUT: ['BEEHIVE_ERR_PROXY_LOGIN_TIMEOUT', 'client did not authenticate in time'],
  NOT_PROXIED: ['BEEHIVE_ERR_PROXY_NOT_PROXIED', 'pg client is not connected through the proxy'],
  GRANT_LOGIN: ['BEEHIVE_ERR_PROXY_GRANT_LOGIN', 'pool grants serve only the upstream database and user'],
});

export type ProxyErrorCode = keyof typeof ProxyErrors;

/** SQLSTATE sent to a client for each error (PostgreSQL's own codes where one fits). */
const kSqlstate: Record<string, string> = {
  PROTOCOL_VIOLATION: '08P01',
  MESSAGE_TOO_LARGE: '08P01',
  UNKNOWN_MESSAGE: '08P01',
  UNSUPPORTED_PROTOCOL: '0A000',
  AUTH_FAILED: '28P01',
  AUTH_UNSUPPORTED: '28000',
  UNKNOWN_DATABASE: '3D000',
  REPLICATION_UNSUPPORTED: '0A000',
  ADMIN_NOT_ALLOWED: '28000',
  ADMIN_UNKNOWN_COMMAND: '42601',
  ADMIN_UNSUPPORTED: '0A000',
  ADMIN_BAD_STATE: '55000',
  CONFIG_MISSING: '55000',
  CONFIG_UNREADABLE: 'F0000',
  CONFIG_INVALID: 'F0000',
  HANDOFF_UNKNOWN: '28000',
  HANDOFF_USED: '28000',
  HANDOFF_EXPIRED: '28000',
  HANDOFF_TARGET_GONE: '08003',
  HANDOFF_FINISHED: '57P01',
  SESSION_NOT_FOUND: '08003',
  TOO_MANY_CLIENTS: '53300',
  POOL_TIMEOUT: '53300',
  UPSTREAM_CONNECT: '08006',
  UPSTREAM_AUTH: '28P01',
  UPSTREAM_LOST: '08006',
  SHUTDOWN: '57P01',
  LOGIN_TIMEOUT: '08006',
};

export function sqlstateOf(err: unknown): string {
  // The server's own code first: an error it sent is passed on as it sent it.
  const own = (err as { sqlstate?: unknown } | undefined)?.sqlstate;
  if (typeof own === 'string' && /^[0-9A-Z]{5}$/.test(own)) return own;
  const code = (err as BeehiveError | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('BEEHIVE_ERR_PROXY_')) {
    return kSqlstate[code.slice('BEEHIVE_ERR_PROXY_'.length)] ?? 'XX000';
  }
  const pgCode = (err as { sqlstate?: string } | undefined)?.sqlstate;
  return typeof pgCode === 'string' ? pgCode : 'XX000';
}
