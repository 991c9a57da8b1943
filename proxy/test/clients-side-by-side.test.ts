/**
 * node-postgres and postgres.js side by side, each directly and through the proxy: startup
 * parameters, errors of prepared statements, a failed transaction and a query cancel give the same
 * answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import postgres from 'postgres';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';

const server = usePg();
let proxy: ProxyHandle;

beforeAll(async () => {
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 2 });
  const c = new pg.Client(server.get().url);
  await c.connect();
  await c.query('CREATE TABLE uniq (k int PRIMARY KEY)');
  await c.end();
});
afterAll(async () => {
  await proxy?.close();
});

const ports = () => ({ direct: server.get().port, proxy: proxy.address.port });
const kSettings = `SELECT current_setting('application_name') AS app, current_setting('DateStyle') AS ds, current_setting('statement_timeout') AS st, '2024-03-05'::date::text AS d`;

/** One scenario with node-postgres: what it sees. */
async function withPg(port: number, tag: string): Promise<unknown> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'secret-pw', database: 'postgres', application_name: 'pg-side', options: '-c DateStyle=German', statement_timeout: 5000 });
  await c.connect();
  try {
    const settings = (await c.query(kSettings)).rows[0];
    const k = 1000 + Math.floor(Math.random() * 1e6);
    await c.query({ name: 'ins', text: 'INSERT INTO uniq VALUES ($1)', values: [k] });
    const dup = await c.query({ name: 'ins', text: 'INSERT INTO uniq VALUES ($1)', values: [k] }).catch((e: { code: string; constraint?: string }) => ({ code: e.code, constraint: e.constraint }));
    await c.query('BEGIN');
    const inTx = await c.query('SELECT 1/0').catch((e: { code: string }) => e.code);
    const aborted = await c.query('SELECT 1').catch((e: { code: string }) => e.code);
    await c.query('ROLLBACK');
    const q = c.query(`SELECT pg_sleep(60) AS ${tag}`).catch((e: { code: string }) => e.code);
    await activeQuery(tag);
    new pg.Client({ host: '127.0.0.1', port }).cancel(c, (c as unknown as { activeQuery: pg.Query }).activeQuery);
    const cancelled = await q;
    const after = (await c.query({ name: 'ins2', text: 'SELECT $1::int + 1 AS n', values: [1] })).rows[0].n;
    return { settings, dup, inTx, aborted, cancelled, after };
  } finally {
    await c.end();
  }
}

/** The same with postgres.js. */
async function withPostgresJs(port: number, tag: string): Promise<unknown> {
  const sql = postgres({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: 'secret-pw',
    database: 'postgres',
    max: 1,
    onnotice: () => {},
    connection: { application_name: 'pg-side', DateStyle: 'German', statement_timeout: 5000 },
  });
  try {
    const settings = { ...(await sql.unsafe(kSettings))[0] };
    const k = 1000 + Math.floor(Math.random() * 1e6);
    await sql`INSERT INTO uniq VALUES (${k})`;
    const dup = await sql`INSERT INTO uniq VALUES (${k})`.catch((e: { code: string; constraint_name?: string }) => ({ code: e.code, constraint: e.constraint_name }));
    const inTx = await sql
      .begin(async (tx) => {
        const first = await tx`SELECT 1/0`.catch((e: { code: string }) => e.code);
        const second = await tx`SELECT 1`.catch((e: { code: string }) => e.code);
        throw Object.assign(new Error('roll back'), { got: [first, second] });
      })
      .catch((e: { got?: unknown }) => e.got);
    const q = sql.unsafe(`SELECT pg_sleep(60) AS ${tag}`);
    const cancelledP = q.catch((e: { code: string }) => e.code);
    await activeQuery(tag);
    await q.cancel();
    const cancelled = await cancelledP;
    const after = (await sql`SELECT ${1}::int + 1 AS n`)[0].n;
    return { settings, dup, inTx, cancelled, after };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function activeQuery(tag: string): Promise<void> {
  const w = new pg.Client(server.get().url);
  await w.connect();
  try {
    for (;;) {
      const r = await w.query(`SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()`, [`%${tag}%`]);
      if (r.rows.length > 0) return;
    }
  } finally {
    await w.end();
  }
}

describe('node-postgres and postgres.js, directly and through the proxy', () => {
  it('node-postgres: same settings, errors, failed transaction and cancel', async () => {
    const direct = await withPg(ports().direct, 'pg_direct_sleep');
    expect(direct).toMatchObject({ settings: { app: 'pg-side', ds: 'German, DMY', st: '5s', d: '05.03.2024' }, dup: { code: '23505' }, inTx: '22012', aborted: '25P02', cancelled: '57014', after: 2 });
    expect(await withPg(ports().proxy, 'pg_proxy_sleep')).toEqual(direct);
  });

  it('postgres.js: same settings, errors, failed transaction and cancel', async () => {
    const direct = await withPostgresJs(ports().direct, 'pgjs_direct_sleep');
    expect(direct).toMatchObject({ settings: { app: 'pg-side', ds: 'German, DMY', st: '5s' }, dup: { code: '23505' }, inTx: ['22012', '25P02'], cancelled: '57014', after: 2 });
    expect(await withPostgresJs(ports().proxy, 'pgjs_proxy_sleep')).toEqual(direct);
  });
});
