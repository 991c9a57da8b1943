/**
 * The relay's data path: connections read into one reused buffer each (wire/socket-input.ts), so
 * every byte kept beyond a read — a message split across reads, a stashed message, a write the
 * kernel did not take at once — must be a copy or own its buffer. Each case runs with reads
 * straight from the handle and with the socket's 'data' events (the path used where the handle
 * cannot be read directly, e.g. TLS), and checks content, not only counts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { setDirectIo } from '../wire/socket-input';
import { usePg } from './pg-server';
import { connected, ext, msg, rawLogin } from './helpers';

const server = usePg();
let proxy: ProxyHandle;
let single: ProxyHandle;
let direct: pg.Client;

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

beforeAll(async () => {
  proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 4 });
  single = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 1, auth: 'trust' });
  direct = new pg.Client({ connectionString: server.get().url });
  await direct.connect();
});
afterAll(async () => {
  setDirectIo(true);
  await direct?.end();
  await proxy?.close();
  await single?.close();
});

/** Re-runs `check` (each run a round trip to the server) until it holds. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setImmediate(r));
}

for (const directReads of [true, false]) {
  describe(directReads ? 'reads into the connection buffer' : "reads through 'data' events", () => {
    beforeAll(() => setDirectIo(directReads));

    it('a result far larger than the socket buffers, read by a client that stalls, arrives intact', async () => {
      const c = await connected(proxy, { application_name: `stall-${directReads}` });
      const stream = (c as unknown as { connection: { stream: import('node:net').Socket } }).connection.stream;
      const rows = 400_000;
      const q = c.query({ text: 'SELECT i, md5(i::text) AS h FROM generate_series(1, $1::int) i', values: [rows], rowMode: 'array' });
      stream.pause();
      // The proxy stops reading the server once the client's side is full, and the server then
      // blocks writing to it: from here on the proxy's writes to the client are pending.
      await until(async () => {
        const r = await direct.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'ClientWrite' AND query LIKE 'SELECT i, md5%'");
        return r.rows[0].n > 0;
      });
      stream.resume();
      const r = await q;
      expect(r.rows.length).toBe(rows);
      let bad = 0;
      for (let i = 0; i < rows; i++) {
        const [n, h] = r.rows[i] as [number, string];
        if (n !== i + 1 || h !== md5(String(i + 1))) bad++;
      }
      expect(bad).toBe(0);
      await c.end();
    });

    it('messages larger than a read (query text in, rows out) keep every byte', async () => {
      const c = await connected(proxy);
      const text = randomBytes(1_500_000).toString('hex'); // 3 MB of query text
      const r1 = await c.query(`SELECT md5('${text}') AS h, length('${text}') AS n`);
      expect(r1.rows[0]).toEqual({ h: md5(text), n: text.length });
      // Rows above the streaming threshold pass as fragments.
      const r2 = await c.query('SELECT i, repeat(md5(i::text), 6000) AS v FROM generate_series(1, 40) i');
      expect(r2.rows.length).toBe(40);
      for (const row of r2.rows) expect(row.v).toBe(md5(String(row.i)).repeat(6000));
      await c.end();
    });

    it('messages stashed while the only backend is busy are sent as they were written', async () => {
      // (Both with the same startup parameters: they share the one backend.)
      const holder = await rawLogin(single.address.port, { user: 'postgres', database: 'postgres' });
      await holder.exchange(ext.query('BEGIN'));
      try {
        const { socket, exchange } = await rawLogin(single.address.port, { user: 'postgres', database: 'postgres' });
        // Queries in separate writes while no backend is free: each waits in the stash, and the
        // connection's read buffer takes the next one meanwhile.
        const values = Array.from({ length: 20 }, (_, i) => `${i}-${randomBytes(40).toString('hex')}`);
        // Each write is read by the proxy before the next one goes out (its byte counter says so).
        const received = async () => Number(/beehive_proxy_bytes_total\{direction="from_clients"\} (\d+)/.exec(await single.metrics())![1]);
        let expected = await received();
        for (const v of values) {
          const q = msg('Q', `SELECT '${v}' AS v\0`);
          socket.write(q);
          expected += q.length;
          await until(async () => (await received()) >= expected);
        }
        const answers = exchange(Buffer.alloc(0), values.length);
        await holder.exchange(ext.query('COMMIT'));
        const got = (await answers).filter((m) => m.code === 'D').map((m) => m.body.subarray(6).toString('utf8'));
        expect(got).toEqual(values);
        socket.end();
      } finally {
        // A failure must not leave the one backend held for the next test.
        holder.socket.destroy();
      }
    });
  });
}
