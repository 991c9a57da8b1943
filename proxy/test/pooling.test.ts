import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';

const server = usePg();
let proxy: ProxyHandle;

beforeAll(async () => {
  // trust keeps 500 connection setups cheap; SCRAM is covered elsewhere.
  // Clients named 'app' (no such role): served as the upstream user.
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 10, auth: 'trust', serverUser: 'upstream' });
});
afterAll(async () => {
  await proxy?.close();
});

describe('transaction pooling under load', () => {
  it('serves 500 concurrent clients over 10 backends with every query answered and no error', async () => {
    const setup = new pg.Client({ host: '127.0.0.1', port: proxy.address.port, user: 'app', database: 'postgres' });
    await setup.connect();
    await setup.query('CREATE TABLE hits (client int, n int)');
    await setup.end();

    const clients = Array.from({ length: 500 }, () => new pg.Client({ host: '127.0.0.1', port: proxy.address.port, user: 'app', database: 'postgres' }));
    await Promise.all(clients.map((c) => c.connect()));
    let answered = 0;
    let errors = 0;
    await Promise.all(
      clients.map(async (c, i) => {
        try {
          for (let k = 0; k < 3; k++) {
            const r = await c.query({ name: 'echo', text: 'SELECT $1::int AS i', values: [i] });
            if (r.rows[0].i === i) answered++;
          }
          await c.query('BEGIN');
          await c.query('INSERT INTO hits VALUES ($1, 1)', [i]);
          await c.query('INSERT INTO hits VALUES ($1, 2)', [i]);
          await c.query('COMMIT');
          answered += 4;
        } catch {
          errors++;
        }
      }),
    );
    expect(errors).toBe(0);
    expect(answered).toBe(500 * 7);
    const metrics = await proxy.metrics();
    expect(metrics).toMatch(/beehive_proxy_clients 500/);
    const inUse = Number(/beehive_proxy_backends\{state="in_use"\} (\d+)/.exec(metrics)![1]);
    const idle = Number(/beehive_proxy_backends\{state="idle"\} (\d+)/.exec(metrics)![1]);
    expect(inUse + idle).toBeLessThanOrEqual(10);
    await Promise.all(clients.map((c) => c.end()));

    const check = new pg.Client({ host: '127.0.0.1', port: proxy.address.port, user: 'app', database: 'postgres' });
    await check.connect();
    expect((await check.query('SELECT count(*)::int AS n, count(DISTINCT client)::int AS d FROM hits')).rows[0]).toEqual({ n: 1000, d: 500 });
    await check.end();
  });

  it('keeps a backend per client in session mode and resets it afterwards', async () => {
    const p = await startProxy({ upstream: server.get().url, listen: { port: 0 }, poolMode: 'session', maxBackends: 2, auth: 'trust', serverUser: 'upstream' });
    const a = new pg.Client({ host: '127.0.0.1', port: p.address.port, user: 'app', database: 'postgres' });
    await a.connect();
    await a.query('SET work_mem = 12345');
    const pid = (await a.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    for (let i = 0; i < 3; i++) expect((await a.query('SELECT pg_backend_pid() AS p')).rows[0].p).toBe(pid);
    await a.end();
    const b = new pg.Client({ host: '127.0.0.1', port: p.address.port, user: 'app', database: 'postgres' });
    await b.connect();
    expect((await b.query('SHOW work_mem')).rows[0].work_mem).not.toBe('12345kB');
    await b.end();
    await p.close();
  });
});
