import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';

const server = usePg();
let proxy: ProxyHandle;

beforeAll(async () => {
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 4 });
});
afterAll(async () => {
  await proxy?.close();
});

describe('smoke', () => {
  it('runs a query through the proxy', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: proxy.address.port, user: 'postgres', password: 'secret-pw', database: 'postgres' });
    await c.connect();
    const r = await c.query('SELECT 1 AS one, $1::text AS t', ['x']);
    expect(r.rows).toEqual([{ one: 1, t: 'x' }]);
    await c.end();
  });
});
