import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { serialize } from 'pg-protocol';
import type pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';
import { connected } from './helpers';

const server = usePg();
let proxy: ProxyHandle;

beforeAll(async () => {
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 3 });
  const c = await connected(proxy);
  await c.query('CREATE TABLE items (id int PRIMARY KEY, name text)');
  await c.end();
});
afterAll(async () => {
  await proxy?.close();
});

describe('pg through the proxy (transaction pooling)', () => {
  it('runs simple and extended queries with types', async () => {
    const c = await connected(proxy);
    expect((await c.query('SELECT 1 AS a; SELECT 2 AS b')) as unknown as pg.QueryResult[]).toHaveLength(2);
    const r = await c.query('SELECT $1::int + 1 AS n, $2::text AS t, $3::jsonb AS j, now() IS NOT NULL AS ok', [41, 'héllo', { a: [1] }]);
    expect(r.rows[0]).toEqual({ n: 42, t: 'héllo', j: { a: [1] }, ok: true });
    await c.end();
  });

  it('keeps named prepared statements working across backends and clients', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => connected(proxy)));
    const runs = clients.map(async (c, i) => {
      for (let k = 0; k < 15; k++) {
        const r = await c.query({ name: 'plus', text: 'SELECT $1::int + $2::int AS n', values: [i, k] });
        expect(r.rows[0].n).toBe(i + k);
        // The same name, another text, in another client: each keeps its own.
        const r2 = await c.query({ name: `own`, text: `SELECT ${i} AS me` });
        expect(r2.rows[0].me).toBe(i);
      }
    });
    await Promise.all(runs);
    await Promise.all(clients.map((c) => c.end()));
  });

  it('reports errors with their SQLSTATE and stays usable', async () => {
    const c = await connected(proxy);
    await expect(c.query('SELEC 1')).rejects.toMatchObject({ code: '42601' });
    await expect(c.query({ name: 'bad', text: 'SELECT * FROM nope' })).rejects.toMatchObject({ code: '42P01' });
    await c.query('BEGIN');
    await expect(c.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
    await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    await c.query('ROLLBACK');
    expect((await c.query({ name: 'bad', text: 'SELECT 7 AS x' })).rows[0].x).toBe(7);
    await c.end();
  });

  it('isolates transactions of different clients', async () => {
    const a = await connected(proxy);
    const b = await connected(proxy);
    await a.query('BEGIN');
    await a.query('INSERT INTO items VALUES (1, $1)', ['one']);
    expect((await b.query('SELECT count(*)::int AS n FROM items WHERE id = 1')).rows[0].n).toBe(0);
    await a.query('COMMIT');
    expect((await b.query('SELECT name FROM items WHERE id = 1')).rows[0].name).toBe('one');
    await Promise.all([a.end(), b.end()]);
  });

  it('routes a CancelRequest to the backend running the query', async () => {
    const c = await connected(proxy);
    const sleeping = c.query('SELECT pg_sleep(30)');
    // Wait until the backend really runs it.
    const watcher = await connected(proxy);
    for (;;) {
      const r = await watcher.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'");
      if (r.rows[0].n > 0) break;
    }
    await new Promise<void>((resolve) => {
      const s = net.connect(proxy.address.port, '127.0.0.1', () => s.end(serialize.cancel(c.processID!, c.secretKey!)));
      s.on('close', () => resolve());
    });
    await expect(sleeping).rejects.toMatchObject({ code: '57014' });
    expect((await c.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
    await Promise.all([c.end(), watcher.end()]);
  });

  it('delivers notifications to a listening client (pinned by LISTEN)', async () => {
    const listener = await connected(proxy);
    const notifier = await connected(proxy);
    await listener.query('LISTEN events');
    const got = new Promise<pg.Notification>((resolve) => listener.once('notification', resolve));
    await notifier.query("SELECT pg_notify('events', 'hello')");
    expect((await got).payload).toBe('hello');
    expect(await proxy.metrics()).toMatch(/beehive_proxy_pinned_sessions [1-9]/);
    await Promise.all([listener.end(), notifier.end()]);
  });

  it('pins session state: SET and temporary tables survive between transactions', async () => {
    const c = await connected(proxy);
    await c.query("SET application_name = 'pinned-app'");
    await c.query('CREATE TEMP TABLE scratch (x int)');
    const others = await Promise.all(Array.from({ length: 3 }, () => connected(proxy)));
    await Promise.all(others.map((o) => o.query('SELECT 1')));
    await c.query('INSERT INTO scratch VALUES (1)');
    expect((await c.query('SHOW application_name')).rows[0].application_name).toBe('pinned-app');
    expect((await c.query('SELECT count(*)::int AS n FROM scratch')).rows[0].n).toBe(1);
    await Promise.all([c.end(), ...others.map((o) => o.end())]);
    // The pinned backend came back reset (DISCARD ALL): nobody sees the setting.
    const d = await connected(proxy);
    for (let i = 0; i < 5; i++) expect((await d.query('SHOW application_name')).rows[0].application_name).not.toBe('pinned-app');
    await d.end();
  });

  it('authenticates clients with SCRAM and refuses a wrong password (28P01)', async () => {
    await expect(connected(proxy, { password: 'wrong' })).rejects.toMatchObject({ code: '28P01' });
    await expect(connected(proxy, { user: 'nobody' })).rejects.toMatchObject({ code: '28P01' });
  });
});
