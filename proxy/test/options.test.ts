import { describe, expect, it } from 'vitest';
import { resolveOptions, type ProxyOptions } from '../options';

const up = 'postgres://u:p@127.0.0.1:5432/db';
const bad = (o: Record<string, unknown>) => () => resolveOptions({ upstream: up, ...o } as ProxyOptions);

describe('proxy options', () => {
  it('fills in defaults', () => {
    const o = resolveOptions({ upstream: up });
    expect(o).toMatchObject({
      upstream: { host: '127.0.0.1', port: 5432, user: 'u', password: 'p', database: 'db' },
      listen: { host: '127.0.0.1', port: 6432 },
      poolMode: 'transaction',
      maxBackends: 10,
      auth: 'scram-sha-256',
      users: { u: 'p' },
      control: null,
      tls: null,
    });
  });

  it('rejects each bad option with a message naming it', () => {
    expect(() => resolveOptions(null as never)).toThrow(Object.assign(new TypeError('invalid option: options must be an object'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(() => resolveOptions({} as never)).toThrow(Object.assign(new TypeError('invalid option: options.upstream must be a postgres:// URL or an object'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ upstream: 'http://x' })).toThrow(Object.assign(new TypeError('invalid option: options.upstream must be a postgres:// URL'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ upstream: 'not a url' })).toThrow(Object.assign(new TypeError('invalid option: options.upstream must be a postgres:// URL'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ upstream: 'postgres://host/db' })).toThrow(Object.assign(new TypeError('invalid option: options.upstream must name a user'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ upstream: { host: 'h' } })).toThrow(Object.assign(new TypeError('invalid option: options.upstream.user must be a non-empty string'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ upstream: { user: 'u', port: 70000 } })).toThrow(Object.assign(new RangeError('option out of range: options.upstream.port must be between 0 and 65535'), { code: 'BEEHIVE_ERR_PROXY_OPTION_RANGE' }));
    expect(bad({ maxBackends: 0 })).toThrow(Object.assign(new RangeError('option out of range: options.maxBackends must be a positive integer'), { code: 'BEEHIVE_ERR_PROXY_OPTION_RANGE' }));
    expect(bad({ maxBackends: 1.5 })).toThrow(Object.assign(new TypeError('invalid option: options.maxBackends must be a positive integer'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ maxBackends: '10' })).toThrow(Object.assign(new TypeError('invalid option: options.maxBackends must be a positive integer'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    for (const k of ['maxClients', 'handoffTtlMs', 'acquireTimeoutMs', 'connectTimeoutMs', 'idleTimeoutMs', 'maxMessageSize', 'cleanupTimeoutMs', 'loginTimeoutMs']) {
      expect(bad({ [k]: -1 })).toThrow(Object.assign(new RangeError(`option out of range: options.${k} must be a positive integer`), { code: 'BEEHIVE_ERR_PROXY_OPTION_RANGE' }));
    }
    // Timers beyond setTimeout's range would fire at once; an hour bounds hand-off ids.
    for (const k of ['acquireTimeoutMs', 'connectTimeoutMs', 'idleTimeoutMs', 'cleanupTimeoutMs', 'loginTimeoutMs']) {
      expect(bad({ [k]: 2 ** 31 })).toThrow(Object.assign(new RangeError(`option out of range: options.${k} must be at most 2147483647`), { code: 'BEEHIVE_ERR_PROXY_OPTION_RANGE' }));
    }
    expect(bad({ handoffTtlMs: 1e15 })).toThrow(Object.assign(new RangeError('option out of range: options.handoffTtlMs must be at most 3600000'), { code: 'BEEHIVE_ERR_PROXY_OPTION_RANGE' }));
    expect(bad({ maxMessageSize: 2 ** 30 })).toThrow(Object.assign(new RangeError('option out of range: options.maxMessageSize must be at most 1073741823'), { code: 'BEEHIVE_ERR_PROXY_OPTION_RANGE' }));
    expect(resolveOptions({ upstream: up }).loginTimeoutMs).toBe(15_000);
    expect(bad({ poolMode: 'statement' })).toThrow(Object.assign(new TypeError("invalid option: options.poolMode must be 'transaction' or 'session'"), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ auth: 'md5' })).toThrow(Object.assign(new TypeError("invalid option: options.auth must be 'scram-sha-256' or 'trust'"), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ users: { a: 1 } })).toThrow(Object.assign(new TypeError('invalid option: options.users must map user names to password strings'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ listen: { port: -1 } })).toThrow(Object.assign(new RangeError('option out of range: options.listen.port must be between 0 and 65535'), { code: 'BEEHIVE_ERR_PROXY_OPTION_RANGE' }));
    expect(bad({ listen: { port: 'x' } })).toThrow(Object.assign(new TypeError('invalid option: options.listen.port must be an integer'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ listen: { host: '' } })).toThrow(Object.assign(new TypeError('invalid option: options.listen.host must be a non-empty string'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ listen: 5 })).toThrow(Object.assign(new TypeError('invalid option: options.listen must be an object'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ tls: 'yes' })).toThrow(Object.assign(new TypeError('invalid option: options.tls must be an object'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ control: 'x' })).toThrow(Object.assign(new TypeError('invalid option: options.control must be an object'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ control: { token: 'short' } })).toThrow(Object.assign(new TypeError('invalid option: options.control.token must be a string of at least 16 characters'), { code: 'BEEHIVE_ERR_PROXY_OPTION_TYPE' }));
    expect(bad({ control: { token: 'x'.repeat(16), port: 1e6 } })).toThrow(Object.assign(new RangeError('option out of range: options.control.port must be between 0 and 65535'), { code: 'BEEHIVE_ERR_PROXY_OPTION_RANGE' }));
  });
});
