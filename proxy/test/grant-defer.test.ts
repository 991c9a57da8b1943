import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createControlClient, startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';
import { connected } from './helpers';

const server = usePg();
let proxy: ProxyHandle;
const token = 'control-token-0123456789';

beforeAll(async () => {
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 8, acquireTimeoutMs: 1500, control: { port: 0, token } });
  const c = await connected(proxy);
  await c.query('CREATE TABLE g (id int PRIMARY KEY, who text)');
  await c.query('CREATE TABLE gd (id int PRIMARY KEY, parent int REFERENCES g(id) DEFERRABLE INITIALLY DEFERRED)');
  await c.end();
});
afterAll(async () => {
  await proxy?.close();
});

/** A worker's pg.Pool under a fresh deferred grant. */
const grantPool = (extra: Record<string, unknown> = {}, max = 4) => {
  const g = proxy.preparePoolGrant({ deferCommit: true, ...extra });
  const pool = new pg.Pool({ connectionString: `postgres://${g.user}:none@127.0.0.1:${proxy.address.port}/postgres`, max });
  const errors: Error[] = [];
  pool.on('error', (e) => errors.push(e));
  return { g, pool, errors };
};
/** Committed rows with these ids, as another connection sees them. */
const committed = async (...ids: number[]): Promise<number[]> => {
  const c = await connected(proxy);
  const r = await c.query('SELECT id FROM g WHERE id = ANY($1) ORDER BY id', [ids]);
  await c.end();
  return r.rows.map((x) => x.id);
};
const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);

describe('deferred pool grants: a worker pool is one transaction, committed at the commit point', () => {
  it("concurrent queries on several pool connections see each other's writes; nothing commits before finish('commit')", async () => {
    const { g, pool, errors } = grantPool();
    const ids = range(100, 16);
    await Promise.all(ids.map((id) => pool.query('INSERT INTO g VALUES ($1, $2)', [id, 'worker'])));
    expect(pool.totalCount).toBeGreaterThan(1); // several connections really were used
    const seen = await Promise.all(range(0, 4).map(() => pool.query('SELECT count(*)::int AS n FROM g WHERE id BETWEEN 100 AND 115')));
    expect(seen.map((r) => r.rows[0].n)).toEqual([16, 16, 16, 16]);
    expect(await committed(...ids)).toEqual([]);
    await proxy.preparePoolGrantCommit({ id: g.id });
    const r = await proxy.finishPoolGrant({ id: g.id, outcome: 'commit' });
    expect(r).toEqual({ id: g.id, outcome: 'commit', result: 'committed' });
    expect(await committed(...ids)).toEqual(ids);
    await pool.end();
    expect(errors.every((e) => /finished/.test(e.message))).toBe(true);
  });

  it("finish('rollback') leaves no row, and the grant's connections are closed", async () => {
    const { g, pool } = grantPool();
    await Promise.all(range(200, 8).map((id) => pool.query('INSERT INTO g VALUES ($1, $2)', [id, 'worker'])));
    const c = await pool.connect();
    const closed = new Promise<Error>((resolve) => c.once('error', resolve));
    c.release();
    expect(await proxy.finishPoolGrant({ id: g.id, outcome: 'rollback' })).toMatchObject({ result: 'rolled-back' });
    expect((await closed).message).toMatch(/finished/);
    expect(await committed(...range(200, 8))).toEqual([]);
    await expect(proxy.finishPoolGrant({ id: g.id, outcome: 'commit' })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_USED' });
    const late = new pg.Client({ connectionString: `postgres://${g.user}:none@127.0.0.1:${proxy.address.port}/postgres` });
    await expect(late.connect()).rejects.toMatchObject({ code: '28000' });
    await pool.end();
  });

  it('the worker’s own transactions and autocommit errors behave as on PostgreSQL, inside the held transaction', async () => {
    const { g, pool } = grantPool();
    const a = await pool.connect();
    await a.query('BEGIN');
    await a.query("INSERT INTO g VALUES (300, 'tx')");
    expect(a.getTransactionStatus?.() ?? 'T').toBe('T');
    // Another connection of the grant waits for the transaction to end (one backend), then sees its work.
    const other = pool.query('SELECT count(*)::int AS n FROM g WHERE id = 300');
    const commit = await a.query('COMMIT');
    expect(commit.command).toBe('COMMIT');
    expect((await other).rows[0].n).toBe(1);
    a.release();
    // A rolled-back transaction of the worker undoes only its own work.
    const b = await pool.connect();
    await b.query('BEGIN');
    await b.query("INSERT INTO g VALUES (301, 'rolled back')");
    await b.query('ROLLBACK');
    b.release();
    // A failing autocommit statement undoes only itself.
    await expect(pool.query("INSERT INTO g VALUES (300, 'duplicate')")).rejects.toMatchObject({ code: '23505' });
    await pool.query("INSERT INTO g VALUES (302, 'after the error')");
    const { rows } = await pool.query('SELECT id FROM g WHERE id BETWEEN 300 AND 302 ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([300, 302]);
    await proxy.preparePoolGrantCommit({ id: g.id });
    await proxy.finishPoolGrant({ id: g.id, outcome: 'commit' });
    expect(await committed(300, 301, 302)).toEqual([300, 302]);
    await pool.end();
  });

  it('a transaction the worker left open when its connection closed is rolled back; the rest commits', async () => {
    const { g, pool } = grantPool();
    await pool.query("INSERT INTO g VALUES (310, 'autocommit')");
    const c = new pg.Client({ connectionString: `postgres://${g.user}:none@127.0.0.1:${proxy.address.port}/postgres` });
    await c.connect();
    await c.query('BEGIN');
    await c.query("INSERT INTO g VALUES (311, 'left open')");
    await c.end();
    await proxy.finishPoolGrant({ id: g.id, outcome: 'commit' });
    expect(await committed(310, 311)).toEqual([310]);
    await pool.end();
  });

  it('prepare refuses work that cannot commit (a deferred constraint), and the rollback leaves nothing', async () => {
    const { g, pool } = grantPool();
    await pool.query("INSERT INTO g VALUES (320, 'parent')");
    await pool.query('INSERT INTO gd VALUES (1, 99999)'); // no such parent: checked only at COMMIT
    await expect(proxy.preparePoolGrantCommit({ id: g.id })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_COMMIT_FAILED' });
    await proxy.finishPoolGrant({ id: g.id, outcome: 'rollback' });
    expect(await committed(320)).toEqual([]);
    await pool.end();
  });

  it('a connection that waits too long for the grant (another holds a transaction open) fails, and prepare refuses the grant', async () => {
    const { g, pool } = grantPool();
    const a = await pool.connect();
    await a.query('BEGIN');
    await a.query("INSERT INTO g VALUES (330, 'holder')");
    await expect(pool.query('SELECT 1')).rejects.toMatchObject({ code: '53300' });
    await a.query('COMMIT');
    a.release();
    await expect(proxy.preparePoolGrantCommit({ id: g.id })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_COMMIT_FAILED' });
    await proxy.finishPoolGrant({ id: g.id, outcome: 'rollback' });
    expect(await committed(330)).toEqual([]);
    await pool.end();
  });

  it("a worker connection refused at login (here a wrong capability) makes prepare refuse the grant, as for a hand-off", async () => {
    const { g, pool } = grantPool({ capability: 'the-right-capability' });
    const bad = new pg.Client({ connectionString: `postgres://${g.user}:wrong@127.0.0.1:${proxy.address.port}/postgres` });
    await expect(bad.connect()).rejects.toMatchObject({ code: '28P01' });
    await expect(proxy.preparePoolGrantCommit({ id: g.id })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_COMMIT_FAILED' });
    await proxy.finishPoolGrant({ id: g.id, outcome: 'rollback' });
    await pool.end();
    const app = await connected(proxy);
    const t = proxy.prepareHandoff({ processId: app.processID!, secretKey: app.secretKey!, deferCommit: true, capability: 'the-right-capability' });
    const w = new pg.Client({ connectionString: `postgres://${t.user}:wrong@127.0.0.1:${proxy.address.port}/postgres` });
    await expect(w.connect()).rejects.toMatchObject({ code: '28P01' });
    await expect(proxy.prepareHandoffCommit({ id: t.id })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_COMMIT_FAILED' });
    await app.end();
  });

  it('a grant never finished is rolled back when it expires (its connections closed)', async () => {
    const { g, pool } = grantPool({ ttlMs: 2500 });
    await pool.query("INSERT INTO g VALUES (340, 'never finished')");
    const c = await pool.connect();
    const closed = new Promise<Error>((resolve) => c.once('error', resolve));
    c.release();
    expect((await closed).message).toMatch(/finished/);
    // Blocks on the grant's row lock until its transaction ends; succeeds only if it was rolled back.
    const direct = await connected(proxy);
    await direct.query("INSERT INTO g VALUES (340, 'direct')");
    await direct.end();
    await expect(proxy.finishPoolGrant({ id: g.id, outcome: 'commit' })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_EXPIRED' });
    await pool.end();
  });

  it('the control endpoint serves prepare and finish of grants; an unused grant finishes as unused', async () => {
    const cc = createControlClient({ url: proxy.controlUrl!, token });
    const g = await cc.preparePoolGrant({ deferCommit: true });
    const pool = new pg.Pool({ connectionString: `postgres://${g.user}:none@127.0.0.1:${proxy.address.port}/postgres` });
    pool.on('error', () => {});
    await pool.query("INSERT INTO g VALUES (350, 'via control')");
    await cc.preparePoolGrantCommit({ id: g.id });
    expect(await cc.finishPoolGrant({ id: g.id, outcome: 'commit' })).toMatchObject({ result: 'committed' });
    expect(await committed(350)).toEqual([350]);
    const unused = await cc.preparePoolGrant({ deferCommit: true });
    expect(await cc.finishPoolGrant({ id: unused.id, outcome: 'commit' })).toMatchObject({ result: 'unused' });
    const plain = await cc.preparePoolGrant({});
    await expect(cc.finishPoolGrant({ id: plain.id, outcome: 'commit' })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_NOT_DEFERRED' });
    await pool.end();
  });

  it("finish('rollback') cancels a statement a worker still runs (a hung worker does not hold the rollback)", async () => {
    const { g, pool } = grantPool();
    await pool.query("INSERT INTO g VALUES (360, 'before the hang')");
    const hung = pool.query('SELECT pg_sleep(600)').then(
      () => 'finished',
      (e: Error & { code?: string }) => e.code ?? e.message,
    );
    // The statement is running once the grant's backend shows it active.
    const direct = await connected(proxy);
    while ((await direct.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)' AND state = 'active'")).rows[0].n === 0);
    expect(await proxy.finishPoolGrant({ id: g.id, outcome: 'rollback' })).toMatchObject({ result: 'rolled-back' });
    expect(await hung).not.toBe('finished');
    expect(await committed(360)).toEqual([]);
    // The same for a client hand-off.
    const app = await connected(proxy);
    const t = proxy.prepareHandoff({ processId: app.processID!, secretKey: app.secretKey!, deferCommit: true });
    const w = new pg.Client({ connectionString: `postgres://${t.user}:none@127.0.0.1:${proxy.address.port}/postgres` });
    w.on('error', () => {});
    await w.connect();
    const hung2 = w.query('SELECT pg_sleep(601)').then(() => 'finished', () => 'failed');
    while ((await direct.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(601)' AND state = 'active'")).rows[0].n === 0);
    expect(await proxy.finishHandoff({ id: t.id, outcome: 'rollback' })).toMatchObject({ result: 'rolled-back' });
    expect(await hung2).toBe('failed');
    expect((await app.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await app.end();
    await direct.end();
    await pool.end();
  });

  it('seven grants at once (one backend each, within maxBackends), each with concurrent autocommit statements, own transactions and failures: exactly the committed grants’ work persists', async () => {
    const grants = Array.from({ length: 7 }, (_, k) => ({ k, ...grantPool({}, 3), commit: k % 3 !== 0 }));
    const expected: number[] = [];
    await Promise.all(
      grants.map(async ({ k, pool, g, commit }) => {
        const base = 1000 + k * 100;
        const work: Array<Promise<unknown>> = [];
        for (let j = 0; j < 6; j++) work.push(pool.query('INSERT INTO g VALUES ($1, $2)', [base + j, 'auto']));
        work.push(
          (async () => {
            const c = await pool.connect();
            try {
              await c.query('BEGIN');
              await c.query('INSERT INTO g VALUES ($1, $2)', [base + 50, 'tx kept']);
              await c.query('COMMIT');
              await c.query('BEGIN');
              await c.query('INSERT INTO g VALUES ($1, $2)', [base + 60, 'tx undone']);
              await c.query('ROLLBACK');
            } finally {
              c.release();
            }
          })(),
        );
        work.push(pool.query('INSERT INTO g VALUES ($1, $2)', [base, 'duplicate key']).catch(() => 'failed as expected'));
        await Promise.all(work);
        const { rows } = await pool.query('SELECT count(*)::int AS n FROM g WHERE id BETWEEN $1 AND $2', [base, base + 99]);
        expect(rows[0].n).toBe(7);
        if (commit) expected.push(...[0, 1, 2, 3, 4, 5, 50].map((j) => base + j));
        await proxy.preparePoolGrantCommit({ id: g.id });
        await proxy.finishPoolGrant({ id: g.id, outcome: commit ? 'commit' : 'rollback' });
        await pool.end();
      }),
    );
    const direct = await connected(proxy);
    const { rows } = await direct.query('SELECT id FROM g WHERE id BETWEEN 1000 AND 2999 ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(expected.sort((a, b) => a - b));
    const stuck = await direct.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'");
    expect(stuck.rows[0].n).toBe(0);
    await direct.end();
  });

  it('the backends of finished grants return to the pool', async () => {
    for (let i = 0; i < 12; i++) {
      const { g, pool } = grantPool();
      await pool.query('INSERT INTO g VALUES ($1, $2)', [400 + i, 'loop']);
      await proxy.finishPoolGrant({ id: g.id, outcome: i % 2 ? 'commit' : 'rollback' });
      await pool.end();
    }
    expect(await committed(...range(400, 12))).toEqual(range(400, 12).filter((i) => i % 2));
    const m = await proxy.metrics();
    expect(m).toMatch(/beehive_proxy_backends\{state="in_use"\} [0-1]\b/);
  });
});
