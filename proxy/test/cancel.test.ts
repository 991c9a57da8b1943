/**
 * Backend identity: the BackendKeyData a client gets, CancelRequest through the proxy,
 * pg_cancel_backend/pg_terminate_backend with the pid the client was given (session pooling) and a
 * backend terminated under a pool — each as PostgreSQL behaves directly.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { BackendPool } from '../upstream/pool';
import { parseUpstreamUrl } from '../options';
import { usePg } from './pg-server';
import { fields, messages, rawLogin } from './helpers';

const server = usePg();
let tx: ProxyHandle;
let session: ProxyHandle;
let sessionTrust: ProxyHandle;

beforeAll(async () => {
  tx = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 3 });
  session = await startProxy({ upstream: server.get().url, listen: { port: 0 }, poolMode: 'session', maxBackends: 6 });
  sessionTrust = await startProxy({ upstream: server.get().url, listen: { port: 0 }, poolMode: 'session', auth: 'trust', maxBackends: 2 });
});
afterAll(async () => {
  await Promise.all([tx?.close(), session?.close(), sessionTrust?.close()]);
});

type Target = 'direct' | 'transaction' | 'session';
const cfg = (t: Target) => ({
  host: '127.0.0.1',
  port: t === 'direct' ? server.get().port : t === 'transaction' ? tx.address.port : session.address.port,
  user: 'postgres',
  password: 'secret-pw',
  database: 'postgres',
});
const connect = async (t: Target) => {
  const c = new pg.Client(cfg(t));
  await c.connect();
  return c;
};

/** Resolves once the server runs a statement carrying `tag` (seen from a direct connection). */
async function running(tag: string): Promise<number> {
  const watcher = await connect('direct');
  try {
    for (;;) {
      const r = await watcher.query(`SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()`, [`%${tag}%`]);
      if (r.rows.length > 0) return r.rows[0].pid as number;
    }
  } finally {
    await watcher.end();
  }
}

/** A raw CancelRequest to `port`; resolves when the receiver closes it (as PostgreSQL does, with no answer). */
function cancelRequest(port: number, pid: number, secret: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      const m = Buffer.alloc(16);
      m.writeInt32BE(16, 0);
      m.writeInt32BE(80877102, 4);
      m.writeInt32BE(pid, 8);
      m.writeInt32BE(secret, 12);
      s.write(m);
    });
    let got = Buffer.alloc(0);
    s.on('data', (c) => (got = Buffer.concat([got, c])));
    s.on('error', reject);
    s.on('close', () => resolve(got));
  });
}

describe('query cancel through the proxy', () => {
  for (const t of ['direct', 'transaction', 'session'] as Target[]) {
    it(`${t}: node-postgres's cancel and a raw CancelRequest cancel the client's own query, which then goes on`, async () => {
      const c = await connect(t);
      const tag = `cancel_${t}_${Date.now()}`;
      const q = c.query(`SELECT pg_sleep(60) AS ${tag}`);
      await running(tag);
      new pg.Client(cfg(t)).cancel(c, (c as unknown as { activeQuery: unknown }).activeQuery as pg.Query);
      await expect(q).rejects.toMatchObject({ code: '57014', message: 'canceling statement due to user request' });
      expect((await c.query('SELECT 1 AS n')).rows[0].n).toBe(1);

      const key = c as unknown as { processID: number; secretKey: number };
      const tag2 = `${tag}_raw`;
      const q2 = c.query(`SELECT pg_sleep(60) AS ${tag2}`);
      q2.catch(() => {}); // asserted below; the error may come before the CancelRequest's connection closes
      await running(tag2);
      // A wrong secret is ignored (no answer, the connection closed), as PostgreSQL does.
      expect((await cancelRequest(cfg(t).port, key.processID, key.secretKey ^ 1)).length).toBe(0);
      await running(tag2);
      expect((await cancelRequest(cfg(t).port, key.processID, key.secretKey)).length).toBe(0);
      await expect(q2).rejects.toMatchObject({ code: '57014' });
      expect((await c.query('SELECT 2 AS n')).rows[0].n).toBe(2);
      await c.end();
    });
  }

  it('a cancel for a client with nothing running reaches no one (transaction pooling: no backend is touched)', async () => {
    const idle = await connect('transaction');
    const busy = await connect('transaction');
    const key = idle as unknown as { processID: number; secretKey: number };
    const tag = `other_${Date.now()}`;
    const q = busy.query(`SELECT pg_sleep(0.3), 'done' AS ${tag}`);
    await running(tag);
    await cancelRequest(tx.address.port, key.processID, key.secretKey);
    expect((await q).rows[0][tag]).toBe('done');
    await Promise.all([idle.end(), busy.end()]);
  });

  it('a backend with a cancel still in flight is not handed to another client until it has landed', async () => {
    const pool = new BackendPool(parseUpstreamUrl(server.get().url), { max: 1, acquireTimeoutMs: 30_000, connectTimeoutMs: 10_000, idleTimeoutMs: 60_000, maxMessageSize: 1 << 20 });
    try {
      const b = await new Promise<import('../upstream/backend').Backend>((resolve, reject) => pool.acquire((e, x) => (e ? reject(e) : resolve(x!))));
      const next = new Promise<number>((resolve) => pool.acquire((_e, x) => resolve(x!.cancelsInFlight)));
      b.cancel();
      expect(b.cancelsInFlight).toBe(1);
      pool.release(b);
      // The waiter gets it only once the server has closed the cancel connection.
      expect(await next).toBe(0);
    } finally {
      pool.close();
      for (const x of pool.all) x.destroy();
    }
  });
});

describe('the pid a client is given', () => {
  it('session pooling: the backend pid, usable with pg_cancel_backend and pg_terminate_backend as directly', async () => {
    const outcomes: Record<string, unknown> = {};
    for (const t of ['direct', 'session'] as Target[]) {
      const victim = await connect(t);
      const admin = await connect(t);
      const pid = (victim as unknown as { processID: number }).processID;
      expect((await victim.query('SELECT pg_backend_pid() AS p')).rows[0].p).toBe(pid);
      const tag = `victim_${t}_${Date.now()}`;
      // Its outcome taken at once: the error may come before pg_cancel_backend answers.
      const q = victim.query(`SELECT pg_sleep(60) AS ${tag}`).then(
        () => null,
        (e: Error & { code?: string }) => ({ code: e.code, message: e.message }),
      );
      await running(tag);
      expect((await admin.query('SELECT pg_cancel_backend($1) AS ok', [pid])).rows[0].ok).toBe(true);
      const cancelled = await q;
      const errors: Array<{ code?: string; message: string }> = [];
      victim.on('error', (e: Error & { code?: string }) => errors.push({ code: e.code, message: e.message }));
      const ended = new Promise<void>((resolve) => victim.once('end', () => resolve()));
      expect((await admin.query('SELECT pg_terminate_backend($1) AS ok', [pid])).rows[0].ok).toBe(true);
      await ended;
      outcomes[t] = { cancelled, errors };
      await admin.end();
    }
    expect(outcomes.direct).toMatchObject({
      cancelled: { code: '57014', message: 'canceling statement due to user request' },
      errors: expect.arrayContaining([{ code: '57P01', message: 'terminating connection due to administrator command' }]),
    });
    expect(outcomes.session).toEqual(outcomes.direct);
    // And the proxy goes on serving.
    const c = await connect('session');
    expect((await c.query('SELECT 3 AS n')).rows[0].n).toBe(3);
    await c.end();
  });

  it('a terminated session gets the server\'s FATAL error once and the connection closes, as directly', async () => {
    const t = await rawLogin(sessionTrust.address.port, {});
    const key = t.startup.find((m) => m.code === 'K')!.body.readInt32BE(0);
    const closed = new Promise<void>((resolve) => t.socket.on('close', () => resolve()));
    let after = Buffer.alloc(0);
    t.socket.on('data', (c: Buffer) => (after = Buffer.concat([after, c])));
    const admin = await connect('direct');
    expect((await admin.query('SELECT pg_terminate_backend($1) AS ok', [key])).rows[0].ok).toBe(true);
    await admin.end();
    await closed;
    const got = messages(after);
    expect(got.map((m) => m.code)).toEqual(['E']);
    expect(fields(got[0].body)).toMatchObject({ S: 'FATAL', C: '57P01', M: 'terminating connection due to administrator command' });
  });

  it('transaction pooling: a pid of the proxy (no server process has it), the backend terminated mid-transaction reported as directly, the pool healed', async () => {
    const seen: Record<string, unknown> = {};
    const admin = await connect('direct');
    for (const t of ['direct', 'transaction'] as Target[]) {
      const c = await connect(t);
      const pid = (c as unknown as { processID: number }).processID;
      await c.query('BEGIN');
      const backendPid = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p as number;
      if (t === 'transaction') {
        expect(pid).toBeGreaterThanOrEqual(1 << 22);
        expect(backendPid).not.toBe(pid);
      }
      const errors: Array<{ code?: string; message: string }> = [];
      c.on('error', (e: Error & { code?: string }) => errors.push({ code: e.code, message: e.message }));
      const ended = new Promise<void>((resolve) => c.once('end', () => resolve()));
      expect((await admin.query('SELECT pg_terminate_backend($1) AS ok', [backendPid])).rows[0].ok).toBe(true);
      await ended;
      seen[t] = errors;
    }
    expect(seen.direct).toContainEqual({ code: '57P01', message: 'terminating connection due to administrator command' });
    expect(seen.transaction).toEqual(seen.direct);

    // Idle pooled backends terminated too: clients are still served, on fresh backends.
    const warm = await Promise.all([0, 1].map(() => connect('transaction')));
    await Promise.all(warm.map((x) => x.query('SELECT 1')));
    await Promise.all(warm.map((x) => x.end()));
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`);
    await admin.end();
    // Once the proxy has seen them go (a backend killed while idle is dropped when its FATAL arrives).
    const backends = async () => Number(/beehive_proxy_backends\{state="idle"\} (\d+)/.exec(await tx.metrics())?.[1]) + Number(/beehive_proxy_backends\{state="in_use"\} (\d+)/.exec(await tx.metrics())?.[1]);
    while ((await backends()) > 0) await new Promise((r) => setImmediate(r));
    const clients = await Promise.all([0, 1, 2, 3].map(() => connect('transaction')));
    const got = await Promise.all(clients.map((x, i) => x.query('SELECT $1::int AS n', [i])));
    expect(got.map((r) => r.rows[0].n)).toEqual([0, 1, 2, 3]);
    await Promise.all(clients.map((x) => x.end()));
  });
});
