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
    expect(() => resolveOptions(null as never)).toThrow(new TypeError('options must be an object'));
    expect(() => resolveOptions({} as never)).toThrow(new TypeError('options.upstream must be a postgres:// URL or an object'));
    expect(bad({ upstream: 'http://x' })).toThrow(new TypeError('options.upstream must be a postgres:// URL'));
    expect(bad({ upstream: 'not a url' })).toThrow(new TypeError('options.upstream must be a postgres:// URL'));
    expect(bad({ upstream: 'postgres://host/db' })).toThrow(new TypeError('options.upstream must name a user'));
    expect(bad({ upstream: { host: 'h' } })).toThrow(new TypeError('options.upstream.user must be a non-empty string'));
    expect(bad({ upstream: { user: 'u', port: 70000 } })).toThrow(new RangeError('options.upstream.port must be between 0 and 65535'));
    expect(bad({ maxBackends: 0 })).toThrow(new RangeError('options.maxBackends must be a positive integer'));
    expect(bad({ maxBackends: 1.5 })).toThrow(new TypeError('options.maxBackends must be a positive integer'));
    expect(bad({ maxBackends: '10' })).toThrow(new TypeError('options.maxBackends must be a positive integer'));
    for (const k of ['maxClients', 'handoffTtlMs', 'acquireTimeoutMs', 'connectTimeoutMs', 'idleTimeoutMs', 'maxMessageSize', 'cleanupTimeoutMs', 'loginTimeoutMs']) {
      expect(bad({ [k]: -1 })).toThrow(new RangeError(`options.${k} must be a positive integer`));
    }
    // Timers beyond setTimeout's range would fire at once; an hour bounds hand-off ids.
    for (const k of ['acquireTimeoutMs', 'connectTimeoutMs', 'idleTimeoutMs', 'cleanupTimeoutMs', 'loginTimeoutMs']) {
      expect(bad({ [k]: 2 ** 31 })).toThrow(new RangeError(`options.${k} must be at most 2147483647`));
    }
    expect(bad({ handoffTtlMs: 1e15 })).toThrow(new RangeError('options.handoffTtlMs must be at most 3600000'));
    expect(bad({ maxMessageSize: 2 ** 30 })).toThrow(new RangeError('options.maxMessageSize must be at most 1073741823'));
    expect(resolveOptions({ upstream: up }).loginTimeoutMs).toBe(15_000);
    expect(bad({ poolMode: 'statement' })).toThrow(new TypeError("options.poolMode must be 'transaction' or 'session'"));
    expect(bad({ auth: 'md5' })).toThrow(new TypeError("options.auth must be 'scram-sha-256' or 'trust'"));
    expect(bad({ users: { a: 1 } })).toThrow(new TypeError('options.users must map user names to password strings'));
    expect(bad({ listen: { port: -1 } })).toThrow(new RangeError('options.listen.port must be between 0 and 65535'));
    expect(bad({ listen: { port: 'x' } })).toThrow(new TypeError('options.listen.port must be an integer'));
    expect(bad({ listen: { host: '' } })).toThrow(new TypeError('options.listen.host must be a non-empty string'));
    expect(bad({ listen: 5 })).toThrow(new TypeError('options.listen must be an object'));
    expect(bad({ tls: 'yes' })).toThrow(new TypeError('options.tls must be an object'));
    expect(bad({ control: 'x' })).toThrow(new TypeError('options.control must be an object'));
    expect(bad({ control: { token: 'short' } })).toThrow(new TypeError('options.control.token must be a string of at least 16 characters'));
    expect(bad({ control: { token: 'x'.repeat(16), port: 1e6 } })).toThrow(new RangeError('options.control.port must be between 0 and 65535'));
  });
});
