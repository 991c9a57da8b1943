import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';

const server = usePg();
let proxy: ProxyHandle;
let sql: postgres.Sql;

beforeAll(async () => {
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 3 });
  sql = postgres({ host: '127.0.0.1', port: proxy.address.port, user: 'postgres', password: 'secret-pw', database: 'postgres', max: 6, onnotice: () => {} });
  await sql`CREATE TABLE kv (k text PRIMARY KEY, v int)`;
});
afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await proxy?.close();
});

describe('postgres (porsager) through the proxy', () => {
  it('runs prepared queries concurrently over few backends', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => sql`SELECT ${i}::int * 2 AS d, ${'s' + i}::text AS s`));
    results.forEach((r, i) => expect(r[0]).toEqual({ d: i * 2, s: 's' + i }));
  });

  it('runs transactions with sql.begin and rolls back on error', async () => {
    await sql.begin(async (tx) => {
      await tx`INSERT INTO kv VALUES ('a', 1)`;
      await tx`UPDATE kv SET v = v + 1 WHERE k = 'a'`;
    });
    await expect(
      sql.begin(async (tx) => {
        await tx`INSERT INTO kv VALUES ('b', 1)`;
        await tx`INSERT INTO kv VALUES ('b', 2)`;
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await sql`SELECT k, v FROM kv ORDER BY k`).toEqual([{ k: 'a', v: 2 }]);
  });

  it('copies in and out', async () => {
    await sql`CREATE TABLE nums (n int, label text)`;
    const rows = Array.from({ length: 5000 }, (_, i) => `${i}\tlabel-${i}\n`).join('');
    const writable = await sql`COPY nums FROM STDIN`.writable();
    await pipeline(Readable.from([Buffer.from(rows)]), writable);
    expect((await sql`SELECT count(*)::int AS n, sum(n)::int AS s FROM nums`)[0]).toEqual({ n: 5000, s: (4999 * 5000) / 2 });
    const chunks: Buffer[] = [];
    const readable = await sql`COPY (SELECT n, label FROM nums ORDER BY n) TO STDOUT`.readable();
    await pipeline(readable, new Writable({ write(c, _e, cb) { chunks.push(c); cb(); } }));
    expect(Buffer.concat(chunks).toString()).toBe(rows);
  });

  it('reports errors with their SQLSTATE', async () => {
    await expect(sql`SELECT * FROM missing_table`).rejects.toMatchObject({ code: '42P01' });
    await expect(sql.unsafe('SELEC 1')).rejects.toMatchObject({ code: '42601' });
    expect((await sql`SELECT 1 AS one`)[0].one).toBe(1);
  });

  it('cancels a running query', async () => {
    const q = sql`SELECT pg_sleep(30)`;
    q.execute();
    for (;;) {
      const [r] = await sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'`;
      if (r.n > 0) break;
    }
    q.cancel();
    await expect(q).rejects.toMatchObject({ code: '57014' });
  });

  it('listens and notifies', async () => {
    let resolve!: (v: string) => void;
    const got = new Promise<string>((r) => (resolve = r));
    const listening = await sql.listen('jobs', (payload) => resolve(payload));
    await sql.notify('jobs', 'job-1');
    expect(await got).toBe('job-1');
    await listening.unlisten();
  });
});
