import net from 'node:net';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUpstreamUrl, startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';
import { connected } from './helpers';

const server = usePg();
let proxy: ProxyHandle;

beforeAll(async () => {
  const s = server.get();
  proxy = await startProxy({ upstream: `postgres://postgres:secret-pw@localhost:${s.port}/postgres?host=${encodeURIComponent(s.socketDir)}`, listen: { port: 0 }, maxBackends: 2 });
});
afterAll(async () => {
  await proxy?.close();
});

describe('upstream over a Unix socket', () => {
  it('parses ?host=/dir as the socket directory and refuses a relative one', () => {
    expect(parseUpstreamUrl('postgres://u:p@localhost:5433/db?host=/run/pg')).toMatchObject({ host: '/run/pg', port: 5433, user: 'u', database: 'db' });
    expect(() => parseUpstreamUrl('postgres://u@x/db?host=run')).toThrow(/socket directory/);
  });

  it('serves queries, transactions and cancels through the socket', async () => {
    const c = await connected(proxy);
    expect((await c.query('SELECT 1 + 1 AS two')).rows).toEqual([{ two: 2 }]);
    expect((await c.query("SELECT inet_client_addr() IS NULL AS unix")).rows).toEqual([{ unix: true }]);
    await c.query('BEGIN');
    const slow = c.query('SELECT pg_sleep(30)');
    const other = await connected(proxy);
    // Wait on the server's own view until the sleep runs, then cancel it.
    while ((await other.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'")).rows[0].n === 0);
    await other.end();
    // A CancelRequest to the proxy is forwarded to the backend over the socket.
    const s = net.connect(proxy.address.port, '127.0.0.1', () => s.end(serialize.cancel(c.processID!, c.secretKey!)));
    await expect(slow).rejects.toMatchObject({ code: '57014' });
    await c.query('ROLLBACK');
    await c.end();
  });
});
