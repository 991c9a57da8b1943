import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import postgres from 'postgres';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';
import { connected } from './helpers';

const server = usePg();
let proxy: ProxyHandle;
let snapshot: string;

const dump = async (): Promise<string> => {
  const c = await connected(proxy);
  const r = await c.query('SELECT id, qty, note FROM stock ORDER BY id');
  await c.end();
  return JSON.stringify(r.rows);
};

beforeAll(async () => {
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 4 });
  const c = await connected(proxy);
  await c.query('CREATE TABLE stock (id int PRIMARY KEY, qty int NOT NULL, note text)');
  await c.query("INSERT INTO stock SELECT g, g * 10, 'orig' FROM generate_series(1, 50) g");
  await c.end();
  snapshot = await dump();
});
afterAll(async () => {
  await proxy?.close();
});

describe('shadow sessions', () => {
  it('1,000 shadow writes, with and without the app own transactions, leave nothing behind', async () => {
    const app = await connected(proxy);
    proxy.shadowBegin({ processId: app.processID!, secretKey: app.secretKey! });
    let n = 0;
    for (let round = 0; round < 100; round++) {
      const own = round % 2 === 0;
      if (own) await app.query('BEGIN');
      await app.query('INSERT INTO stock VALUES ($1, 1, $2)', [1000 + round, 'shadow']);
      await app.query('UPDATE stock SET qty = qty + 1 WHERE id = $1', [(round % 50) + 1]);
      await app.query('DELETE FROM stock WHERE id = $1', [((round + 7) % 50) + 1]);
      await app.query("UPDATE stock SET note = 'changed' WHERE id = $1", [1000 + round]);
      await app.query('INSERT INTO stock VALUES ($1, 2, $2)', [5000 + round, 'shadow-2']);
      await app.query('UPDATE stock SET qty = 0 WHERE id = $1', [5000 + round]);
      await app.query('DELETE FROM stock WHERE id = $1', [5000 + round]);
      await app.query({ name: 'ins', text: 'INSERT INTO stock VALUES ($1, 3, $2)', values: [9000 + round, 'named'] });
      await app.query({ name: 'upd', text: 'UPDATE stock SET qty = qty * 2 WHERE id = $1', values: [9000 + round] });
      await app.query('DELETE FROM stock WHERE id = $1', [9000 + round]);
      n += 10;
      if (own) await app.query(round % 4 === 0 ? 'COMMIT' : 'ROLLBACK');
      // Reads see the shadow's own writes.
      expect((await app.query('SELECT count(*)::int AS c FROM stock WHERE id = $1', [1000 + round])).rows[0].c).toBe(own && round % 4 !== 0 ? 0 : 1);
    }
    // An error outside the app's own transaction does not poison the shadow.
    await expect(app.query('INSERT INTO stock VALUES (1000, 1, NULL)')).rejects.toMatchObject({ code: '23505' });
    expect((await app.query('SELECT count(*)::int AS c FROM stock WHERE id = 1000')).rows[0].c).toBe(1);
    expect(n).toBe(1000);
    proxy.shadowEnd({ processId: app.processID!, secretKey: app.secretKey! });
    expect((await app.query('SELECT count(*)::int AS c FROM stock WHERE id >= 1000')).rows[0].c).toBe(0);
    await app.end();
    expect(await dump()).toBe(snapshot);
  });

  it('turns a startup flag into a shadow session (postgres.js, its own transactions)', async () => {
    const sql = postgres({ host: '127.0.0.1', port: proxy.address.port, user: 'postgres', password: 'secret-pw', database: 'postgres', max: 1, connection: { beehive_shadow: '1' } as never, onnotice: () => {} });
    await sql.begin(async (tx) => {
      await tx`INSERT INTO stock VALUES (7777, 1, 'flag')`;
      await tx`UPDATE stock SET qty = -1`;
    });
    expect((await sql`SELECT count(*)::int AS c FROM stock WHERE qty = -1`)[0].c).toBeGreaterThan(0);
    await sql.end();
    const c = new pg.Client({ host: '127.0.0.1', port: proxy.address.port, user: 'postgres', password: 'secret-pw', database: 'postgres', options: '-c beehive.shadow=on' });
    await c.connect();
    await c.query('DELETE FROM stock');
    expect((await c.query('SELECT count(*)::int AS c FROM stock')).rows[0].c).toBe(0);
    await c.end();
    expect(await dump()).toBe(snapshot);
  });

  it('runs a hand-off as a shadow inside the original transaction and rolls only the worker back', async () => {
    const app = await connected(proxy);
    await app.query('BEGIN');
    await app.query("UPDATE stock SET note = 'app' WHERE id = 2");
    const t = proxy.prepareHandoff({ processId: app.processID!, secretKey: app.secretKey!, shadow: true });
    const w = new pg.Client({ connectionString: `postgres://${t.user}:x@127.0.0.1:${proxy.address.port}/postgres` });
    await w.connect();
    expect((await w.query('SELECT note FROM stock WHERE id = 2')).rows[0].note).toBe('app');
    await w.query('BEGIN');
    await w.query("UPDATE stock SET note = 'worker' WHERE id = 2");
    await w.query('COMMIT');
    expect((await w.query('SELECT note FROM stock WHERE id = 2')).rows[0].note).toBe('worker');
    await w.end();
    expect((await app.query('SELECT note FROM stock WHERE id = 2')).rows[0].note).toBe('app');
    await app.query('ROLLBACK');
    await app.end();
    expect(await dump()).toBe(snapshot);
  });
});
