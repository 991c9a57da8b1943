import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';
import { connected } from './helpers';

const server = usePg();
let proxy: ProxyHandle;

beforeAll(async () => {
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 6 });
  const c = await connected(proxy);
  await c.query('CREATE TABLE s (id int, who text)');
  await c.end();
});
afterAll(async () => {
  await proxy?.close();
});

const worker = (user: string): pg.Client => new pg.Client({ connectionString: `postgres://${user}:none@127.0.0.1:${proxy.address.port}/postgres` });
const handoff = (app: pg.Client) => proxy.prepareHandoff({ processId: app.processID!, secretKey: app.secretKey!, deferCommit: true });
const committed = async (from: number, to: number): Promise<number[]> => {
  const c = await connected(proxy);
  const r = await c.query('SELECT id FROM s WHERE id BETWEEN $1 AND $2 ORDER BY id', [from, to]);
  await c.end();
  return r.rows.map((x) => x.id);
};

describe('two invocations sharing one pg.Client', () => {
  it('the second hand-off waits for the first to finish, then continues the session as the first left it', async () => {
    const app = await connected(proxy);
    const t1 = handoff(app);
    const t2 = handoff(app);
    const w1 = worker(t1.user);
    await w1.connect();
    let firstFinished = false;
    const w2 = worker(t2.user);
    const w2ready = w2.connect().then(() => expect(firstFinished).toBe(true));
    await w1.query("INSERT INTO s VALUES (1, 'first')");
    // A local query on the shared client waits too, and then sees the first worker's committed row.
    const local = app.query('SELECT count(*)::int AS n FROM s WHERE id = 1');
    await w1.end();
    await proxy.prepareHandoffCommit({ id: t1.id });
    firstFinished = true;
    expect(await proxy.finishHandoff({ id: t1.id, outcome: 'commit' })).toMatchObject({ result: 'committed' });
    await w2ready;
    expect((await local).rows[0].n).toBe(1);
    expect((await w2.query('SELECT count(*)::int AS n FROM s WHERE id = 1')).rows[0].n).toBe(1);
    await w2.query("INSERT INTO s VALUES (2, 'second')");
    await w2.end();
    await proxy.prepareHandoffCommit({ id: t2.id });
    expect(await proxy.finishHandoff({ id: t2.id, outcome: 'commit' })).toMatchObject({ result: 'committed' });
    expect(await committed(1, 2)).toEqual([1, 2]);
    expect((await app.query('SELECT count(*)::int AS n FROM s WHERE id <= 2')).rows[0].n).toBe(2);
    await app.end();
  });

  it('eight concurrent invocations on one client: every hand-off succeeds, each row once; a rolled-back one leaves nothing', async () => {
    const app = await connected(proxy);
    const ids = Array.from({ length: 8 }, (_, i) => 100 + i);
    const results = await Promise.all(
      ids.map(async (id) => {
        const t = handoff(app);
        const w = worker(t.user);
        await w.connect();
        await w.query('INSERT INTO s VALUES ($1, $2)', [id, 'worker']);
        await w.end();
        await proxy.prepareHandoffCommit({ id: t.id });
        return proxy.finishHandoff({ id: t.id, outcome: id === 103 ? 'rollback' : 'commit' });
      }),
    );
    expect(results.map((r) => r.result)).toEqual(ids.map((id) => (id === 103 ? 'rolled-back' : 'committed')));
    expect(await committed(100, 107)).toEqual(ids.filter((id) => id !== 103));
    await app.end();
  });

  it('a hand-off whose original is gone is refused at the claim, and prepare refuses its commit', async () => {
    const app = await connected(proxy);
    const t = handoff(app);
    await app.end();
    const w = worker(t.user);
    await expect(w.connect()).rejects.toMatchObject({ code: '08003' });
    await expect(proxy.prepareHandoffCommit({ id: t.id })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PROXY_HANDOFF_COMMIT_FAILED' });
  });
});
