/**
 * pgbench through the proxy: TPC-B-like transactions with every query mode (simple, extended,
 * prepared — named statements on transaction-pooled backends), checked for failures and for the
 * database's own invariant (the balances add up to the history).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';
import { pgTool, toolMissing } from './pg-tools';

const pgbench = pgTool('pgbench');
const server = usePg();
let tx: ProxyHandle;
let session: ProxyHandle;

beforeAll(async () => {
  if (!pgbench) return;
  tx = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 3 });
  session = await startProxy({ upstream: server.get().url, listen: { port: 0 }, poolMode: 'session', maxBackends: 6 });
  await promisify(execFile)(pgbench, ['-i', '-q', '-s', '1', '-h', '127.0.0.1', '-p', String(server.get().port), '-U', 'postgres', 'postgres'], {
    env: { ...process.env, PGPASSWORD: 'secret-pw' },
  });
});
afterAll(async () => {
  await Promise.all([tx?.close(), session?.close()]);
});

async function sums(): Promise<{ accounts: number; history: number; rows: number }> {
  const c = new pg.Client(server.get().url);
  await c.connect();
  try {
    const r = await c.query(
      'SELECT (SELECT sum(abalance) FROM pgbench_accounts)::bigint AS accounts, (SELECT coalesce(sum(delta), 0) FROM pgbench_history)::bigint AS history, (SELECT count(*) FROM pgbench_history)::int AS rows',
    );
    return { accounts: Number(r.rows[0].accounts), history: Number(r.rows[0].history), rows: r.rows[0].rows };
  } finally {
    await c.end();
  }
}

describe.skipIf(!pgbench)('pgbench through the proxy', () => {
  if (!pgbench) console.warn(`skipped: ${toolMissing('pgbench')}`);
  for (const mode of ['simple', 'extended', 'prepared']) {
    for (const pool of ['transaction', 'session'] as const) {
      it(`-M ${mode}, ${pool} pooling: every transaction done, none failed, balances match the history`, async () => {
        const before = await sums();
        const port = pool === 'transaction' ? tx.address.port : session.address.port;
        // More clients than transaction-pooled backends: statements move between backends. One
        // thread per client: pgbench prepares synchronously, and a thread blocked waiting for a
        // backend would stall its other clients holding the others (a pool of any pooler then
        // waits for ever, as PgBouncer's would).
        const { stdout } = await promisify(execFile)(
          pgbench!,
          ['-n', '-M', mode, '-c', '6', '-j', '6', '-t', '40', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'postgres'],
          { env: { ...process.env, PGPASSWORD: 'secret-pw' } },
        );
        expect(stdout).toMatch(/number of transactions actually processed: 240\/240/);
        expect(stdout).not.toMatch(/number of failed transactions: [1-9]/);
        const after = await sums();
        expect(after.rows - before.rows).toBe(240);
        expect(after.accounts).toBe(after.history);
      });
    }
  }
});
