import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createControlClient, packPg, startProxy, type PackContext, type PgRecord, type ProxyHandle } from '../index';
import { unpackPg } from '../../offload-worker';
import { usePg } from './pg-server';
import { connected } from './helpers';

const server = usePg();
let proxy: ProxyHandle;
let ctx: PackContext;
const token = 'pack-control-token-000';

beforeAll(async () => {
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 4, control: { port: 0, token } });
  ctx = { proxy: { ...proxy.address, database: 'postgres' }, prepareHandoff: proxy.prepareHandoff, preparePoolGrant: proxy.preparePoolGrant, capability: 'invocation-cap-1' };
  const c = await connected(proxy);
  await c.query('CREATE TABLE carts (id int PRIMARY KEY, items int)');
  await c.end();
});
afterAll(async () => {
  await proxy?.close();
});

/** What travels to a worker: JSON, nothing else. */
const ship = (r: unknown): PgRecord => JSON.parse(JSON.stringify(r));

describe('pg packageables', () => {
  it('packs a Client in a transaction; the unpacked Client sees its uncommitted rows and commits', async () => {
    const app = await connected(proxy);
    await app.query('BEGIN');
    await app.query('INSERT INTO carts VALUES (1, 3)');
    const record = ship(packPg(app, ctx));
    expect(record).toMatchObject({ unpacker: 'pg.Client', v: 1, host: '127.0.0.1', port: proxy.address.port, database: 'postgres', password: 'invocation-cap-1', poolClient: false });
    expect(record.user).toMatch(/^handoff\.[0-9a-f]{32}$/);

    const onWorker = unpackPg(record, { pg }) as pg.Client;
    expect(onWorker).toBeInstanceOf(pg.Client);
    expect((await onWorker.query('SELECT items FROM carts WHERE id = 1')).rows).toEqual([{ items: 3 }]);
    await onWorker.query('UPDATE carts SET items = items + 1 WHERE id = 1');
    await onWorker.query('COMMIT');
    await onWorker.end();
    expect((await app.query('SELECT items FROM carts WHERE id = 1')).rows).toEqual([{ items: 4 }]);
    await app.end();
  });

  it('packs a Client with deferCommit: the record names the hand-off, the commit waits for finishHandoff', async () => {
    const app = await connected(proxy);
    await app.query('BEGIN');
    await app.query('INSERT INTO carts VALUES (5, 1)');
    const record = ship(packPg(app, { ...ctx, deferCommit: true })) as PgRecord & { handoffId: string };
    expect(record.user).toBe(`handoff.${record.handoffId}`);
    const onWorker = unpackPg(record, { pg }) as pg.Client;
    await onWorker.query('UPDATE carts SET items = 2 WHERE id = 5');
    expect((await onWorker.query('COMMIT')).command).toBe('COMMIT');
    await onWorker.end();
    expect(await proxy.finishHandoff({ id: record.handoffId, outcome: 'commit' })).toMatchObject({ result: 'committed' });
    expect((await app.query('SELECT items FROM carts WHERE id = 5')).rows).toEqual([{ items: 2 }]);
    expect(app.getTransactionStatus()).toBe('I');
    await app.end();
  });

  it('packs a PoolClient through the HTTP control client (async) and gives the worker a release()', async () => {
    const pool = new pg.Pool({ host: '127.0.0.1', port: proxy.address.port, user: 'postgres', password: 'secret-pw', database: 'postgres' });
    const pc = await pool.connect();
    await pc.query('BEGIN');
    await pc.query('INSERT INTO carts VALUES (2, 1)');
    const control = createControlClient({ url: proxy.controlUrl!, token });
    const record = ship(await packPg(pc, { ...ctx, prepareHandoff: control.prepareHandoff, preparePoolGrant: control.preparePoolGrant }));
    expect(record).toMatchObject({ unpacker: 'pg.Client', poolClient: true });
    const w = unpackPg(record, { pg }) as pg.Client & { release(): void };
    expect((await w.query('SELECT count(*)::int AS n FROM carts WHERE id = 2')).rows[0].n).toBe(1);
    await w.query('COMMIT');
    w.release();
    expect((await pc.query('SELECT items FROM carts WHERE id = 2')).rows).toEqual([{ items: 1 }]);
    pc.release();
    await pool.end();
  });

  it('packs a Pool into a grant served by the proxy backend pool', async () => {
    const pool = new pg.Pool({ host: '127.0.0.1', port: proxy.address.port, user: 'postgres', password: 'secret-pw', database: 'postgres', max: 7 });
    const record = ship(packPg(pool, ctx));
    expect(record).toMatchObject({ unpacker: 'pg.Pool', v: 1, max: 7, password: 'invocation-cap-1' });
    expect(record.user).toMatch(/^grant\.[0-9a-f]{32}$/);
    const wp = unpackPg(record, { pg }) as pg.Pool;
    expect(wp).toBeInstanceOf(pg.Pool);
    const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => wp.query('SELECT $1::int AS i', [i])));
    expect(rs.map((r) => r.rows[0].i)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    await wp.end();
    // The grant requires the capability.
    const bad = unpackPg({ ...record, password: 'wrong' }, { pg }) as pg.Pool;
    await expect(bad.query('SELECT 1')).rejects.toMatchObject({ code: '28P01' });
    await bad.end();
    await pool.end();
  });

  it('refuses clients not connected through the proxy, ignores other values, and checks records', async () => {
    const direct = new pg.Client({ connectionString: server.get().url });
    await direct.connect();
    expect(() => packPg(direct, ctx)).toThrow(expect.objectContaining({ code: 'BEEHIVE_ERR_PROXY_NOT_PROXIED' }));
    await direct.end();
    expect(packPg({ a: 1 }, ctx)).toBeUndefined();
    expect(packPg(null, ctx)).toBeUndefined();
    expect(() => unpackPg({ unpacker: 'pg.Client' }, { pg })).toThrow(expect.objectContaining({ code: 'BEEHIVE_ERR_PROXY_BAD_RECORD' }));
    expect(() => unpackPg({ unpacker: 'x', v: 1, host: 'h', port: 1, user: 'u' }, { pg })).toThrow(/unknown unpacker/);
  });
});

describe('unpacked pg objects survive the proxy going away', () => {
  it('an idle pool and client of a worker lose their connections to a proxy shutdown without an unhandled error', async () => {
    const p2 = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 2 });
    const c2: PackContext = { proxy: { ...p2.address, database: 'postgres' }, prepareHandoff: p2.prepareHandoff, preparePoolGrant: p2.preparePoolGrant };
    const app = await connected(p2);
    app.on('error', () => {}); // the app's own client (not under test)
    const pool = unpackPg(ship(packPg(new pg.Pool({ host: p2.address.host, port: p2.address.port }), c2)), { pg }) as pg.Pool;
    const client = unpackPg(ship(packPg(app, c2)), { pg }) as pg.Client;
    await pool.query('SELECT 1');
    await client.query('SELECT 1');
    // No 'error' listener of ours here: without the unpacker's own, these errors would be thrown.
    const removed = new Promise((r) => pool.once('remove', r));
    const ended = new Promise((r) => client.once('end', r));
    await p2.close();
    await Promise.all([removed, ended]);
    await expect(client.query('SELECT 1')).rejects.toThrow();
    await pool.end();
    await app.end().catch(() => {});
  });
});
