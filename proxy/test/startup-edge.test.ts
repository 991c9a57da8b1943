import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';
import { errorCode, rawSocket, startupMessage } from './helpers';

const server = usePg();
let proxy: ProxyHandle;

beforeAll(async () => {
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 3 });
});
afterAll(async () => {
  await proxy?.close();
});

const client = (extra: Record<string, unknown> = {}) =>
  new pg.Client({ host: '127.0.0.1', port: proxy.address.port, user: 'postgres', password: 'secret-pw', database: 'postgres', ...extra });
const stillServes = async () => {
  const c = client();
  await c.connect();
  expect((await c.query('SELECT 41 + 1 AS n')).rows[0].n).toBe(42);
  await c.end();
};
const protocolErrors = async () => Number(/beehive_proxy_errors_total\{kind="protocol"\} (\d+)/.exec(await proxy.metrics())?.[1] ?? 0);
const terminate = Buffer.from([0x58, 0, 0, 0, 4]);

describe('startup as PostgreSQL does it', () => {
  it("answers GSSENCRequest with 'N', then accepts the startup packet on the same connection", async () => {
    const s = await rawSocket(proxy.address.port);
    const gss = Buffer.alloc(8);
    gss.writeInt32BE(8, 0);
    gss.writeInt32BE(80877104, 4);
    s.socket.write(gss);
    await s.waitFor((b) => b.length >= 1);
    expect(s.received().toString('latin1')).toBe('N');
    s.socket.write(startupMessage({ user: 'postgres', database: 'postgres' }));
    await s.waitFor((b) => b.length > 1 && b[1] === 0x52); // AuthenticationSASL
    s.socket.destroy();
  });

  it('a client that ends while still connecting sends Terminate first: a quiet close, nothing misread', async () => {
    const before = await protocolErrors();
    for (let i = 0; i < 20; i++) {
      const c = client();
      c.on('error', () => {});
      void c.connect().catch(() => {});
      await c.end().catch(() => {});
    }
    // The raw forms: Terminate before the startup packet, and during authentication.
    const early = await rawSocket(proxy.address.port);
    early.socket.write(terminate);
    await early.closed;
    expect(early.received().length).toBe(0);
    const mid = await rawSocket(proxy.address.port);
    mid.socket.write(Buffer.concat([startupMessage({ user: 'postgres', database: 'postgres' }), terminate]));
    await mid.closed;
    expect(errorCode(mid.received())).toBeNull();
    expect(await protocolErrors()).toBe(before);
    await stillServes();
  });

  it('a database other than the one served is refused with 3D000 after authentication', async () => {
    const c = client({ database: 'nosuchdb' });
    await expect(c.connect()).rejects.toMatchObject({ code: '3D000', message: expect.stringContaining('"nosuchdb" does not exist') });
    // libpq's default database is the user name.
    const d = client({ database: undefined, user: 'postgres' });
    await d.connect();
    await d.end();
    await stillServes();
  });
});
