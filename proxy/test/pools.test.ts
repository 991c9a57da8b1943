/**
 * One pool per database and user, as PgBouncer keeps: a client is served by backends logged in to
 * its own database as its own user (serverUser 'client'), never by another pool's, and SHOW POOLS
 * lists each pool. A database not in `databases` is refused with 3D000; with '*' the server
 * decides, with its own error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';

const server = usePg();
let proxy: ProxyHandle;
let any: ProxyHandle;
let upstreamOnly: ProxyHandle;

const users = { postgres: 'secret-pw', alice: 'alice-pw' };

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: server.get().url });
  await admin.connect();
  await admin.query('CREATE DATABASE second_db');
  await admin.query('CREATE DATABASE unlisted_db');
  await admin.query("CREATE ROLE alice LOGIN PASSWORD 'alice-pw'");
  await admin.end();
  const upstream = server.get().url;
  proxy = await startProxy({ upstream, listen: { port: 0 }, maxBackends: 6, databases: ['postgres', 'second_db'], users });
  any = await startProxy({ upstream, listen: { port: 0 }, maxBackends: 2, databases: ['*'], users });
  upstreamOnly = await startProxy({ upstream, listen: { port: 0 }, maxBackends: 2, databases: ['postgres', 'second_db'], users, serverUser: 'upstream' });
});
afterAll(async () => {
  await proxy?.close();
  await any?.close();
  await upstreamOnly?.close();
});

const client = (p: ProxyHandle, user: keyof typeof users, database: string) =>
  new pg.Client({ host: p.address.host, port: p.address.port, user, password: users[user], database });

const who = async (c: pg.Client) => (await c.query('SELECT current_database() AS db, current_user AS "user", pg_backend_pid() AS pid')).rows[0] as { db: string; user: string; pid: number };

describe('a pool per database and user', () => {
  it('clients of different databases and users get backends of their own, and SHOW POOLS lists each pool', async () => {
    const a = client(proxy, 'postgres', 'postgres');
    const b = client(proxy, 'alice', 'second_db');
    const c = client(proxy, 'postgres', 'second_db');
    const console = client(proxy, 'postgres', 'pgbouncer');
    await Promise.all([a, b, c, console].map((x) => x.connect()));
    // Each in a transaction at once: three backends, one per pool.
    for (const x of [a, b, c]) await x.query('BEGIN');
    const [wa, wb, wc] = await Promise.all([who(a), who(b), who(c)]);
    expect([wa, wb, wc].map(({ db, user }) => ({ db, user }))).toEqual([
      { db: 'postgres', user: 'postgres' },
      { db: 'second_db', user: 'alice' },
      { db: 'second_db', user: 'postgres' },
    ]);
    expect(new Set([wa.pid, wb.pid, wc.pid]).size).toBe(3);

    const pools = (await console.query('SHOW POOLS')).rows as Array<Record<string, string>>;
    // (A database and user may have several rows, one per startup-parameter set: counts add up.)
    const sum = (database: string, user: string, col: string) =>
      pools.filter((p) => p.database === database && p.user === user).reduce((n, p) => n + Number(p[col]), 0);
    for (const [database, user] of [['postgres', 'postgres'], ['second_db', 'alice'], ['second_db', 'postgres']]) {
      expect([sum(database, user, 'cl_active'), sum(database, user, 'sv_active')], `${database}/${user}`).toEqual([1, 1]);
    }
    const servers = (await console.query('SHOW SERVERS')).rows as Array<Record<string, string>>;
    expect(servers.find((s) => s.pid === String(wb.pid))).toMatchObject({ database: 'second_db', user: 'alice', state: 'active' });

    for (const x of [a, b, c]) await x.query('COMMIT');
    await Promise.all([a, b, c, console].map((x) => x.end()));
  });

  it('under transaction pooling a backend goes back to its own pool only', async () => {
    const a = client(proxy, 'postgres', 'postgres');
    const b = client(proxy, 'alice', 'second_db');
    await Promise.all([a.connect(), b.connect()]);
    // Alternating transactions: each is served by a backend released moments before by the other
    // pool's client, were the pools shared.
    for (let i = 0; i < 30; i++) {
      const [wa, wb] = await Promise.all([who(a), who(b)]);
      expect([wa.db, wa.user, wb.db, wb.user]).toEqual(['postgres', 'postgres', 'second_db', 'alice']);
    }
    await Promise.all([a.end(), b.end()]);
  });

  it('a database not served is refused with 3D000, before any backend is opened for it', async () => {
    const c = client(proxy, 'postgres', 'unlisted_db');
    const err = await c.connect().then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.code).toBe('3D000');
    expect(err?.message).toContain('"unlisted_db"');
  });

  it("with databases ['*'] any database the server has is served, and the server's own error refuses one it lacks", async () => {
    const c = client(any, 'alice', 'unlisted_db');
    await c.connect();
    expect(await who(c)).toMatchObject({ db: 'unlisted_db', user: 'alice' });
    await c.end();
    const bad = client(any, 'alice', 'no_such_db');
    const err = await bad.connect().then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.code).toBe('3D000');
    expect(err?.message).toBe('database "no_such_db" does not exist');
  });

  it('a login the proxy has no password for is refused at once with a coded error, other pools serving on', async () => {
    // (A long acquire timeout: a waiter left to wait would fail the test by its own timeout.)
    const trust = await startProxy({ upstream: server.get().url, listen: { port: 0 }, auth: 'trust', databases: ['postgres', 'second_db'], acquireTimeoutMs: 600_000 });
    try {
      const ok = new pg.Client({ host: trust.address.host, port: trust.address.port, user: 'postgres', database: 'postgres' });
      await ok.connect();
      const stranger = new pg.Client({ host: trust.address.host, port: trust.address.port, user: 'alice', database: 'second_db' });
      const err = await stranger.connect().then(
        () => null,
        (e: Error & { code?: string }) => e,
      );
      expect(err?.code).toBe('28P01');
      expect(err?.message).toMatch(/password for user "alice" and none is configured/);
      expect(await who(ok)).toMatchObject({ db: 'postgres', user: 'postgres' });
      await ok.end();
    } finally {
      await trust.close();
    }
  });

  it("serverUser 'upstream': every client's backends log in as the upstream user, in the client's database", async () => {
    const c = client(upstreamOnly, 'alice', 'second_db');
    await c.connect();
    expect(await who(c)).toMatchObject({ db: 'second_db', user: 'postgres' });
    await c.end();
  });
});

describe('pool grants while clients may log in as others', () => {
  it("are refused, naming why: a grant's connections are the upstream database's and user's, the app's pool may be another's", async () => {
    const upstream = server.get().url;
    // Other databases, or (serverUser 'client') other users: refused.
    for (const p of [proxy, any, upstreamOnly]) expect(() => p.preparePoolGrant({})).toThrow(expect.objectContaining({ code: 'BEEHIVE_ERR_PROXY_GRANT_LOGIN' }));
    const usersOnly = await startProxy({ upstream, listen: { port: 0 }, maxBackends: 1, users });
    const trust = await startProxy({ upstream, listen: { port: 0 }, maxBackends: 1, auth: 'trust' });
    // One database and, logging in as the upstream user whatever the client's name, any users: granted.
    const upstreamUser = await startProxy({ upstream, listen: { port: 0 }, maxBackends: 1, users, serverUser: 'upstream' });
    const plain = await startProxy({ upstream, listen: { port: 0 }, maxBackends: 1 });
    try {
      expect(() => usersOnly.preparePoolGrant({})).toThrow(/clients may log in as alice/);
      expect(() => trust.preparePoolGrant({})).toThrow(/auth 'trust'/);
      expect(upstreamUser.preparePoolGrant({}).user).toMatch(/^grant\./);
      expect(plain.preparePoolGrant({}).user).toMatch(/^grant\./);
    } finally {
      await Promise.all([usersOnly.close(), trust.close(), upstreamUser.close(), plain.close()]);
    }
  });
});
