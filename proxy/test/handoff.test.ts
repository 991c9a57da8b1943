import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createControlClient, startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';
import { connected } from './helpers';

const server = usePg();
let proxy: ProxyHandle;
const token = 'control-token-0123456789';

beforeAll(async () => {
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 4, control: { port: 0, token } });
  const c = await connected(proxy);
  await c.query('CREATE TABLE orders (id int PRIMARY KEY, state text)');
  await c.end();
});
afterAll(async () => {
  await proxy?.close();
});

const worker = (user: string, password = 'none') =>
  new pg.Client({ connectionString: `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${proxy.address.port}/postgres` });

describe('hand-off by id', () => {
  it('continues an open transaction on a second connection; the original sees the commit', async () => {
    const app = await connected(proxy);
    await app.query('BEGIN');
    await app.query("INSERT INTO orders VALUES (1, 'new')");
    const { id, user } = proxy.prepareHandoff({ processId: app.processID!, secretKey: app.secretKey!, capability: 'cap-1' });
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(user).toBe(`handoff.${id}`);

    const w = worker(user, 'cap-1');
    await w.connect();
    expect((await w.query('SELECT state FROM orders WHERE id = 1')).rows).toEqual([{ state: 'new' }]);
    await w.query("UPDATE orders SET state = 'paid' WHERE id = 1");
    await w.query('COMMIT');
    // While the worker runs, the original is held; its query runs once the worker leaves.
    const held = app.query('SELECT state FROM orders WHERE id = 1');
    await w.end();
    expect((await held).rows).toEqual([{ state: 'paid' }]);
    const other = await connected(proxy);
    expect((await other.query('SELECT state FROM orders WHERE id = 1')).rows).toEqual([{ state: 'paid' }]);
    await Promise.all([app.end(), other.end()]);
  });

  it('returns an open transaction to the original when the worker leaves without committing', async () => {
    const app = await connected(proxy);
    await app.query('BEGIN');
    await app.query("INSERT INTO orders VALUES (2, 'new')");
    const { user } = proxy.prepareHandoff({ processId: app.processID!, secretKey: app.secretKey! });
    const w = worker(user);
    await w.connect();
    await w.query("UPDATE orders SET state = 'shipped' WHERE id = 2");
    await w.end();
    expect((await app.query('SELECT state FROM orders WHERE id = 2')).rows).toEqual([{ state: 'shipped' }]);
    await app.query('COMMIT');
    await app.end();
  });

  it("rolls back a vanished worker's work to the splice point; the original's transaction survives", async () => {
    const app = await connected(proxy);
    await app.query('BEGIN');
    await app.query("INSERT INTO orders VALUES (3, 'new')");
    const { user } = proxy.prepareHandoff({ processId: app.processID!, secretKey: app.secretKey! });
    const w = worker(user);
    await w.connect();
    await w.query("UPDATE orders SET state = 'lost' WHERE id = 3");
    w.on('error', () => {}); // the worker dies on purpose
    (w as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect((await app.query('SELECT state FROM orders WHERE id = 3')).rows).toEqual([{ state: 'new' }]);
    await app.query('COMMIT');
    await app.end();
  });

  it('works over the HTTP control endpoint with a bearer token', async () => {
    const control = createControlClient({ url: proxy.controlUrl!, token });
    const app = await connected(proxy);
    await app.query('BEGIN');
    await app.query("INSERT INTO orders VALUES (4, 'http')");
    const t = await control.prepareHandoff({ processId: app.processID!, secretKey: app.secretKey!, capability: 'cap-http', ttlMs: 5000 });
    const w = worker(t.user, 'cap-http');
    await w.connect();
    expect((await w.query('SELECT state FROM orders WHERE id = 4')).rows).toEqual([{ state: 'http' }]);
    await w.query('COMMIT');
    await w.end();
    await app.end();
    const bad = createControlClient({ url: proxy.controlUrl!, token: 'wrong-token-wrong-token' });
    await expect(bad.prepareHandoff({ processId: 1, secretKey: 1 })).rejects.toMatchObject({ status: 401, code: 'BEEHIVE_ERR_PROXY_CONTROL_AUTH' });
    await expect(control.prepareHandoff({ processId: 1, secretKey: 1 })).rejects.toMatchObject({ status: 404, code: 'BEEHIVE_ERR_PROXY_SESSION_NOT_FOUND' });
    await expect(control.prepareHandoff({ processId: 'x' } as never)).rejects.toMatchObject({ status: 400 });
  });

  it('refuses a reused, expired, forged or capability-less id with SQLSTATE 28000/28P01 and keeps serving', async () => {
    const app = await connected(proxy);
    const key = { processId: app.processID!, secretKey: app.secretKey! };
    const once = proxy.prepareHandoff({ ...key });
    const w1 = worker(once.user);
    await w1.connect();
    await w1.end();
    await expect(worker(once.user).connect()).rejects.toMatchObject({ code: '28000', message: /already used/ });

    const short = proxy.prepareHandoff({ ...key, ttlMs: 1 });
    const deadline = short.expiresAt;
    while (Date.now() <= deadline) await app.query('SELECT 1'); // let the clock pass the expiry
    await expect(worker(short.user).connect()).rejects.toMatchObject({ code: '28000', message: /expired/ });

    await expect(worker('handoff.' + 'ab'.repeat(16)).connect()).rejects.toMatchObject({ code: '28000', message: /unknown/ });
    await expect(worker('handoff.not-an-id').connect()).rejects.toMatchObject({ code: '28000' });

    const bound = proxy.prepareHandoff({ ...key, capability: 'the-cap' });
    await expect(worker(bound.user, 'not-the-cap').connect()).rejects.toMatchObject({ code: '28P01' });
    // Single use: even the right capability cannot use it after a failed attempt.
    await expect(worker(bound.user, 'the-cap').connect()).rejects.toMatchObject({ code: '28000' });

    expect(() => proxy.prepareHandoff({ processId: 123, secretKey: 456 })).toThrow(/no client session/);
    expect((await app.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
    await app.end();
    expect(await proxy.metrics()).toMatch(/beehive_proxy_handoffs_total\{result="rejected"\} [1-9]/);
  });
});
