import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';
import { errorCode, msg, rawSocket, startupMessage } from './helpers';

const server = usePg();
let proxy: ProxyHandle;

const client = () => new pg.Client({ host: '127.0.0.1', port: proxy.address.port, user: 'app', database: 'postgres' });
const stillServes = async () => {
  const c = client();
  await c.connect();
  expect((await c.query('SELECT 41 + 1 AS n')).rows[0].n).toBe(42);
  await c.end();
};
/** A raw connection past startup (trust auth): ReadyForQuery received. */
const ready = async () => {
  const s = await rawSocket(proxy.address.port);
  s.socket.write(startupMessage({ user: 'app', database: 'postgres' }));
  await s.waitFor((b) => b.includes(Buffer.from([0x5a, 0, 0, 0, 5])));
  return s;
};

beforeAll(async () => {
  // Clients named 'app' (no such role): served as the upstream user.
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 3, auth: 'trust', maxMessageSize: 4096, serverUser: 'upstream' });
});
afterAll(async () => {
  await proxy?.close();
});

describe('bad input', () => {
  it('answers garbage bytes with 08P01 and closes', async () => {
    const s = await rawSocket(proxy.address.port);
    s.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await s.closed;
    expect(errorCode(s.received())).toBe('08P01');
    await stillServes();
  });

  it('rejects an invalid length, an oversized message and an unknown message type with 08P01', async () => {
    for (const bad of [
      Buffer.from([0x51, 0, 0, 0, 2]), // length below 4
      Buffer.concat([Buffer.from([0x51]), Buffer.from([0, 0, 0x40, 0])]), // 16 KiB Query > maxMessageSize, header only
      msg('y', 'whatever'), // no such message
    ]) {
      const s = await ready();
      s.socket.write(bad);
      await s.closed;
      expect(errorCode(s.received())).toBe('08P01');
    }
    await stillServes();
  });

  it('survives truncated messages from clients that then vanish, at startup and after', async () => {
    const a = await rawSocket(proxy.address.port);
    a.socket.end(startupMessage({ user: 'app' }).subarray(0, 9));
    await a.closed;
    const b = await ready();
    b.socket.end(msg('Q', 'SELECT 1\0').subarray(0, 7));
    await b.closed;
    await stillServes();
  });

  it('rejects an unsupported protocol version with 0A000', async () => {
    const s = await rawSocket(proxy.address.port);
    const m = startupMessage({ user: 'app' });
    m.writeInt32BE(2 << 16, 4);
    s.socket.write(m);
    await s.closed;
    expect(errorCode(s.received())).toBe('0A000');
  });

  it('rolls back the transaction of a client that vanishes mid-transaction and returns its backend clean', async () => {
    const setup = client();
    await setup.connect();
    await setup.query('CREATE TABLE acct (id int PRIMARY KEY, bal int)');
    await setup.query('INSERT INTO acct VALUES (1, 100)');
    await setup.end();

    const doomed = client();
    doomed.on('error', () => {});
    await doomed.connect();
    await doomed.query('BEGIN');
    await doomed.query('UPDATE acct SET bal = 0 WHERE id = 1'); // holds the row lock
    await doomed.query('INSERT INTO acct VALUES (2, 5)');
    (doomed as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();

    // The lock is released (the update would block otherwise) and nothing persisted.
    const c = client();
    await c.connect();
    await c.query("SET lock_timeout = '20s'");
    await c.query('UPDATE acct SET bal = bal + 1 WHERE id = 1');
    expect((await c.query('SELECT id, bal FROM acct ORDER BY id')).rows).toEqual([{ id: 1, bal: 101 }]);
    const stuck = await c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'");
    expect(stuck.rows[0].n).toBe(0);
    await c.end();
    expect(await proxy.metrics()).toMatch(/beehive_proxy_errors_total\{kind="client_vanished_in_transaction"\} 1/);
    await stillServes();
  });
});
