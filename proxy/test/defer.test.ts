import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import pg from 'pg';
import { createControlClient, startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';
import { connected } from './helpers';

const server = usePg();
let proxy: ProxyHandle;
const token = 'control-token-0123456789';

beforeAll(async () => {
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 6, control: { port: 0, token } });
  const c = await connected(proxy);
  await c.query('CREATE TABLE items (id int PRIMARY KEY, who text)');
  await c.end();
});
afterAll(async () => {
  await proxy?.close();
});

const worker = async (user: string): Promise<pg.Client> => {
  const w = new pg.Client({ connectionString: `postgres://${user}:none@127.0.0.1:${proxy.address.port}/postgres` });
  await w.connect();
  return w;
};
const handoff = (app: pg.Client, extra: Record<string, unknown> = {}) =>
  proxy.prepareHandoff({ processId: app.processID!, secretKey: app.secretKey!, deferCommit: true, ...extra });
/** Rows with these ids, as another connection sees them (committed data only). */
/**
 * pg rejects a query on its ErrorResponse, before the ReadyForQuery that carries the new
 * transaction status (the two may arrive in separate reads): wait for it before reading the status.
 */
const settled = async (c: pg.Client): Promise<void> => {
  const internal = c as unknown as { readyForQuery: boolean; connection: import('node:events').EventEmitter };
  if (!internal.readyForQuery) await once(internal.connection, 'readyForQuery');
};

const committed = async (...ids: number[]): Promise<number[]> => {
  const c = await connected(proxy);
  const r = await c.query('SELECT id FROM items WHERE id = ANY($1) ORDER BY id', [ids]);
  await c.end();
  return r.rows.map((x) => x.id);
};
const ids = async (c: pg.Client, ...want: number[]): Promise<number[]> =>
  (await c.query('SELECT id FROM items WHERE id = ANY($1) ORDER BY id', [want])).rows.map((x) => x.id);

describe('deferred commit of a hand-off', () => {
  it("(a) original in a transaction, worker commits, finish('commit'): everything commits; the original is idle", async () => {
    const app = await connected(proxy);
    await app.query('BEGIN');
    await app.query("INSERT INTO items VALUES (1, 'app')");
    const t = handoff(app);
    const w = await worker(t.user);
    expect(w.getTransactionStatus()).toBe('T'); // it continues the original's transaction
    await w.query("INSERT INTO items VALUES (2, 'worker')");
    const c = await w.query('COMMIT');
    expect(c.command).toBe('COMMIT');
    expect(w.getTransactionStatus()).toBe('I');
    expect(await ids(w, 1, 2)).toEqual([1, 2]); // its reads see its work
    await w.end();
    expect(await committed(1, 2)).toEqual([]); // not committed before the agent says so
    let finished = false;
    const held = app.query('SELECT 1').then(() => expect(finished).toBe(true));
    const r = await proxy.finishHandoff({ id: t.id, outcome: 'commit' });
    finished = true;
    expect(r).toEqual({ id: t.id, outcome: 'commit', result: 'committed' });
    await held;
    expect(app.getTransactionStatus()).toBe('I');
    expect(await committed(1, 2)).toEqual([1, 2]);
    await app.end();
  });

  it("(b) original in a transaction, worker commits, finish('rollback'): only the worker's part goes, the original's transaction stays open", async () => {
    const app = await connected(proxy);
    await app.query('BEGIN');
    await app.query("INSERT INTO items VALUES (10, 'app')");
    const t = handoff(app);
    const w = await worker(t.user);
    await w.query("INSERT INTO items VALUES (11, 'worker')");
    expect((await w.query('COMMIT')).command).toBe('COMMIT');
    await w.end();
    expect(await proxy.finishHandoff({ id: t.id, outcome: 'rollback' })).toMatchObject({ result: 'rolled-back' });
    expect(await ids(app, 10, 11)).toEqual([10]);
    expect(app.getTransactionStatus()).toBe('T');
    // What a local re-run does: the same work, in the original's own transaction.
    await app.query("INSERT INTO items VALUES (11, 'local')");
    await app.query('COMMIT');
    expect(await committed(10, 11)).toEqual([10, 11]);
    await app.end();
  });

  it('(c) original idle: the worker own BEGIN/COMMIT and autocommit statements commit on finish(commit), vanish on finish(rollback)', async () => {
    const app = await connected(proxy);
    for (const outcome of ['commit', 'rollback'] as const) {
      const base = outcome === 'commit' ? 20 : 30;
      const t = handoff(app);
      const w = await worker(t.user);
      expect(w.getTransactionStatus()).toBe('I');
      expect((await w.query('BEGIN')).command).toBe('BEGIN');
      expect(w.getTransactionStatus()).toBe('T');
      await w.query('INSERT INTO items VALUES ($1, $2)', [base, 'tx']);
      expect((await w.query('COMMIT')).command).toBe('COMMIT');
      expect(w.getTransactionStatus()).toBe('I');
      await w.query('INSERT INTO items VALUES ($1, $2)', [base + 1, 'autocommit']);
      // An error outside a transaction does not poison the held one, as autocommit would not.
      await expect(w.query('INSERT INTO items VALUES ($1, $2)', [base, 'dup'])).rejects.toMatchObject({ code: '23505' });
      expect(w.getTransactionStatus()).toBe('I');
      // Its own rolled-back transaction leaves nothing.
      await w.query('BEGIN');
      await w.query('INSERT INTO items VALUES ($1, $2)', [base + 2, 'rolled back']);
      expect((await w.query('ROLLBACK')).command).toBe('ROLLBACK');
      // Its own transaction left open when it leaves is rolled back, as PostgreSQL does at disconnect.
      await w.query('BEGIN');
      await w.query('INSERT INTO items VALUES ($1, $2)', [base + 3, 'left open']);
      await w.end();
      expect(await committed(base, base + 1)).toEqual([]);
      const r = await proxy.finishHandoff({ id: t.id, outcome });
      expect(r.result).toBe(outcome === 'commit' ? 'committed' : 'rolled-back');
      expect(await committed(base, base + 1, base + 2, base + 3)).toEqual(outcome === 'commit' ? [base, base + 1] : []);
      expect(await ids(app, base)).toEqual(outcome === 'commit' ? [base] : []);
      expect(app.getTransactionStatus()).toBe('I');
    }
    await app.end();
  });

  it("reproduces a worker that leaves the original's transaction open, or rolls it back; shows COMMIT over the extended protocol", async () => {
    const app = await connected(proxy);
    await app.query('BEGIN');
    await app.query("INSERT INTO items VALUES (40, 'app')");
    let t = handoff(app);
    let w = await worker(t.user);
    await w.query("INSERT INTO items VALUES (41, 'worker')");
    await w.end();
    expect(await proxy.finishHandoff({ id: t.id, outcome: 'commit' })).toMatchObject({ result: 'open' });
    expect(await ids(app, 40, 41)).toEqual([40, 41]);
    expect(app.getTransactionStatus()).toBe('T');

    t = handoff(app);
    w = await worker(t.user);
    await w.query("INSERT INTO items VALUES (42, 'worker')");
    expect((await w.query('ROLLBACK')).command).toBe('ROLLBACK');
    expect(w.getTransactionStatus()).toBe('I');
    await w.end();
    expect(await proxy.finishHandoff({ id: t.id, outcome: 'commit' })).toMatchObject({ result: 'rolled-back' });
    expect(await ids(app, 40, 41, 42)).toEqual([]);
    expect(app.getTransactionStatus()).toBe('I');

    await app.query('BEGIN');
    t = handoff(app);
    w = await worker(t.user);
    await w.query({ text: "INSERT INTO items VALUES (43, 'extended')", queryMode: 'extended' } as never);
    expect((await w.query({ text: 'COMMIT', queryMode: 'extended' } as never)).command).toBe('COMMIT');
    expect(w.getTransactionStatus()).toBe('I');
    await w.end();
    expect(await proxy.finishHandoff({ id: t.id, outcome: 'commit' })).toMatchObject({ result: 'committed' });
    expect(await committed(43)).toEqual([43]);
    await app.end();
  });

  it('finish while the worker is still connected closes the worker first; the held original then continues', async () => {
    const app = await connected(proxy);
    const t = handoff(app);
    const w = await worker(t.user);
    w.on('error', () => {});
    const closed = new Promise((r) => w.once('end', r));
    await w.query("INSERT INTO items VALUES (50, 'worker')");
    await w.query('COMMIT');
    expect(await proxy.finishHandoff({ id: t.id, outcome: 'commit' })).toMatchObject({ result: 'committed' });
    await closed;
    expect(await ids(app, 50)).toEqual([50]);
    await app.end();
  });

  it("a vanished worker's work also waits for the decision", async () => {
    const app = await connected(proxy);
    await app.query('BEGIN');
    const t = handoff(app);
    const w = await worker(t.user);
    await w.query("INSERT INTO items VALUES (60, 'worker')");
    await w.query('COMMIT');
    w.on('error', () => {});
    (w as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect(await proxy.finishHandoff({ id: t.id, outcome: 'commit' })).toMatchObject({ result: 'committed' });
    expect(await committed(60)).toEqual([60]);
    await app.end();
  });

  it('(d) wrong, unclaimed, reused, expired and not-deferred ids get coded errors; the finish timeout rolls back', async () => {
    const app = await connected(proxy);
    const key = { processId: app.processID!, secretKey: app.secretKey! };
    await expect(proxy.finishHandoff({ id: 'ab'.repeat(16), outcome: 'commit' })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_UNKNOWN' });
    await expect(proxy.finishHandoff({ id: 'nope', outcome: 'commit' })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_UNKNOWN' });
    await expect(proxy.finishHandoff({ id: 'ab'.repeat(16), outcome: 'maybe' as never })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_CONTROL_BAD_REQUEST' });
    const plain = proxy.prepareHandoff(key);
    await expect(proxy.finishHandoff({ id: plain.id, outcome: 'commit' })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_NOT_DEFERRED' });

    // Never claimed: finishing it is a no-op and the id can no longer be claimed.
    const unused = handoff(app);
    expect(await proxy.finishHandoff({ id: unused.id, outcome: 'rollback' })).toMatchObject({ result: 'unused' });
    await expect(worker(unused.user)).rejects.toMatchObject({ code: '28000' });
    await expect(proxy.finishHandoff({ id: unused.id, outcome: 'commit' })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_USED' });

    const short = handoff(app, { ttlMs: 1 });
    while (Date.now() <= short.expiresAt) await app.query('SELECT 1');
    await expect(proxy.finishHandoff({ id: short.id, outcome: 'commit' })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_EXPIRED' });

    // No decision within finishTimeoutMs after the worker left: rolled back, the original continues.
    await app.query('BEGIN');
    await app.query("INSERT INTO items VALUES (70, 'app')");
    const slow = handoff(app, { finishTimeoutMs: 20 });
    const w = await worker(slow.user);
    await w.query("INSERT INTO items VALUES (71, 'worker')");
    await w.query('COMMIT');
    await w.end();
    expect(await ids(app, 70, 71)).toEqual([70]); // waits for the timeout's rollback
    expect(app.getTransactionStatus()).toBe('T');
    await expect(proxy.finishHandoff({ id: slow.id, outcome: 'commit' })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_EXPIRED', message: /rolled back/ });
    await app.query('ROLLBACK');
    await app.end();
    const m = await proxy.metrics();
    expect(m).toMatch(/beehive_proxy_handoffs_total\{result="finish_timeout"\} [1-9]/);
    expect(m).toMatch(/beehive_proxy_handoffs_total\{result="finished_commit"\} [1-9]/);
  });

  it("a worker error in the original's transaction makes its COMMIT a ROLLBACK; a COMMIT PostgreSQL refuses at finish is a coded error", async () => {
    const app = await connected(proxy);
    await app.query('BEGIN');
    await app.query("INSERT INTO items VALUES (90, 'app')");
    let t = handoff(app);
    let w = await worker(t.user);
    await expect(w.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
    await settled(w);
    expect(w.getTransactionStatus()).toBe('E');
    expect((await w.query('COMMIT')).command).toBe('ROLLBACK'); // as PostgreSQL answers COMMIT of a failed transaction
    expect(w.getTransactionStatus()).toBe('I');
    await w.end();
    expect(await proxy.finishHandoff({ id: t.id, outcome: 'commit' })).toMatchObject({ result: 'rolled-back' });
    expect(await committed(90)).toEqual([]);
    await app.query('SELECT 1');
    expect(app.getTransactionStatus()).toBe('I');

    // Deferred constraints are checked by the real COMMIT only: the agent learns of the failure at finish.
    await app.query('CREATE TABLE uniq (k int, CONSTRAINT uniq_k UNIQUE (k) DEFERRABLE INITIALLY DEFERRED)');
    t = handoff(app);
    w = await worker(t.user);
    await w.query('BEGIN');
    await w.query('INSERT INTO uniq VALUES (1), (1)');
    expect((await w.query('COMMIT')).command).toBe('COMMIT');
    await w.end();
    await expect(proxy.finishHandoff({ id: t.id, outcome: 'commit' })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_COMMIT_FAILED', message: /uniq_k/ });
    expect((await app.query('SELECT count(*)::int AS n FROM uniq')).rows[0].n).toBe(0);
    expect(app.getTransactionStatus()).toBe('I');
    await app.end();
  });

  it('works over the HTTP control endpoint (POST /v1/handoffs with deferCommit, POST /v1/handoffs/:id/finish)', async () => {
    const control = createControlClient({ url: proxy.controlUrl!, token });
    const app = await connected(proxy);
    const t = await control.prepareHandoff({ processId: app.processID!, secretKey: app.secretKey!, deferCommit: true });
    const w = await worker(t.user);
    await w.query("INSERT INTO items VALUES (80, 'http')");
    await w.end();
    expect(await control.finishHandoff({ id: t.id, outcome: 'commit' })).toEqual({ id: t.id, outcome: 'commit', result: 'committed' });
    expect(await committed(80)).toEqual([80]);
    await expect(control.finishHandoff({ id: t.id, outcome: 'commit' })).rejects.toMatchObject({ status: 409, code: 'BEEHIVE_ERR_PROXY_HANDOFF_USED' });
    await expect(control.finishHandoff({ id: 'cd'.repeat(16), outcome: 'commit' })).rejects.toMatchObject({ status: 404, code: 'BEEHIVE_ERR_PROXY_HANDOFF_UNKNOWN' });
    await expect(control.finishHandoff({ id: t.id, outcome: 'later' as never })).rejects.toMatchObject({ status: 400 });
    await expect(control.prepareHandoff({ processId: app.processID!, secretKey: app.secretKey!, deferCommit: 'yes' as never })).rejects.toMatchObject({ status: 400 });
    await app.end();
  });
});
