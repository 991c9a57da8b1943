/**
 * Startup parameters reach PostgreSQL as a direct connection gives them: each test compares what a
 * client sees connected straight to the server with what it sees through the proxy (transaction and
 * session pooling), with node-postgres, raw protocol and psql.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';
import { errorCode, ext, fields, rawLogin, rawSocket, startupMessage } from './helpers';
import { pgTool, toolMissing } from './pg-tools';

const server = usePg();
let tx: ProxyHandle;
let session: ProxyHandle;
let trust: ProxyHandle;

beforeAll(async () => {
  // Two backends for three or more parameter sets: clients with different ones must take turns.
  tx = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 2 });
  session = await startProxy({ upstream: server.get().url, listen: { port: 0 }, poolMode: 'session', maxBackends: 4 });
  trust = await startProxy({ upstream: server.get().url, listen: { port: 0 }, auth: 'trust', maxBackends: 2 });
});
afterAll(async () => {
  await Promise.all([tx?.close(), session?.close(), trust?.close()]);
});

type Target = 'direct' | 'transaction' | 'session';
const portOf = (t: Target) => (t === 'direct' ? server.get().port : t === 'transaction' ? tx.address.port : session.address.port);
const config = (t: Target, extra: Record<string, unknown>) => ({
  host: '127.0.0.1',
  port: portOf(t),
  user: 'postgres',
  password: 'secret-pw',
  database: 'postgres',
  ...extra,
});

/** Connects and records the ParameterStatus messages in the order the client received them. */
async function open(t: Target, extra: Record<string, unknown>): Promise<{ c: pg.Client; status: Array<[string, string]> }> {
  const c = new pg.Client(config(t, extra));
  const status: Array<[string, string]> = [];
  (c as unknown as { connection: NodeJS.EventEmitter }).connection.on('parameterStatus', (m: { parameterName: string; parameterValue: string }) =>
    status.push([m.parameterName, m.parameterValue]),
  );
  await c.connect();
  return { c, status };
}

const kSettings = ['application_name', 'client_encoding', 'DateStyle', 'TimeZone', 'search_path', 'IntervalStyle', 'statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'extra_float_digits'];
/** Current value, reset value (a startup parameter is the session's reset value) and source of each setting. */
const settingsSql = `SELECT name, setting, reset_val, source FROM pg_settings WHERE name = ANY($1) ORDER BY name`;
const sample = `SELECT '2024-03-05 13:14:15+00'::timestamptz::text AS ts, '2024-03-05'::date::text AS d, '1 day 02:03:04'::interval::text AS iv, current_schemas(false)::text AS schemas`;

const kConfigs: Array<[string, Record<string, unknown>]> = [
  ['no parameters', {}],
  ['application_name', { application_name: 'orders-api' }],
  ['options -c (DateStyle, TimeZone, search_path, IntervalStyle)', { options: '-c DateStyle=SQL,DMY -c TimeZone=Asia/Tokyo -c search_path=pg_catalog -c IntervalStyle=postgres_verbose' }],
  ['timeouts as pg parameters', { statement_timeout: 4321, lock_timeout: 700, idle_in_transaction_session_timeout: 600000, application_name: 'timeouts' }],
  ['options with --name=value and an escaped space', { options: '--extra_float_digits=1 -c application_name=two\\ words' }],
];

describe('startup parameters as PostgreSQL applies them', () => {
  for (const [what, extra] of kConfigs) {
    it(`${what}: same ParameterStatus (in order), settings and results directly and through the proxy`, async () => {
      const seen: Record<string, unknown> = {};
      for (const t of ['direct', 'transaction', 'session'] as Target[]) {
        const { c, status } = await open(t, extra);
        const runs = [];
        // Several transactions: in transaction pooling each may run on another backend.
        for (let i = 0; i < 4; i++) {
          runs.push({ settings: (await c.query(settingsSql, [kSettings])).rows, sample: (await c.query(sample)).rows[0] });
        }
        await c.end();
        for (const r of runs) expect(r).toEqual(runs[0]);
        seen[t] = { status, ...runs[0] };
      }
      expect(seen.transaction).toEqual(seen.direct);
      expect(seen.session).toEqual(seen.direct);
      expect((seen.direct as { status: unknown[] }).status.length).toBeGreaterThan(5);
    });
  }

  it('clients with different parameters taking turns on two backends each see only their own', async () => {
    const sets = [
      { application_name: 'one', options: '-c DateStyle=German' },
      { application_name: 'two', options: '-c DateStyle=SQL,MDY -c TimeZone=America/New_York' },
      { application_name: 'three', options: '-c search_path=pg_catalog' },
      {},
    ];
    const direct = [];
    for (const extra of sets) {
      const { c } = await open('direct', extra);
      direct.push((await c.query(settingsSql, [kSettings])).rows);
      await c.end();
    }
    const clients = await Promise.all(sets.map((extra) => open('transaction', extra)));
    for (let round = 0; round < 6; round++) {
      const got = await Promise.all(clients.map(({ c }) => c.query(settingsSql, [kSettings]).then((r) => r.rows)));
      expect(got).toEqual(direct);
      // A transaction held open keeps a backend; the others still get theirs in turn.
      await clients[round % sets.length].c.query('BEGIN');
      await clients[round % sets.length].c.query('SELECT 1');
      await clients[round % sets.length].c.query('COMMIT');
    }
    await Promise.all(clients.map(({ c }) => c.end()));
  });

  it('statement_timeout and idle_in_transaction_session_timeout given at connect time take effect, ending as directly', async () => {
    for (const t of ['direct', 'transaction', 'session'] as Target[]) {
      const { c } = await open(t, { statement_timeout: 200 });
      await expect(c.query('SELECT pg_sleep(30)')).rejects.toMatchObject({ code: '57014', message: 'canceling statement due to statement timeout' });
      expect((await c.query('SELECT 1 AS n')).rows[0].n).toBe(1);
      await c.end();

      const { c: idle } = await open(t, { idle_in_transaction_session_timeout: 300 });
      // (pg may report the closed connection after the FATAL error: both are listened to.)
      const failed = new Promise<Error & { code?: string }>((resolve) => idle.on('error', resolve));
      await idle.query('BEGIN');
      const err = await failed;
      expect(err.code).toBe('25P03');
      expect(err.message).toBe('terminating connection due to idle-in-transaction timeout');
      await idle.end().catch(() => {});
    }
  });

  it('a value or parameter PostgreSQL refuses is refused with its own error, and the proxy keeps serving', async () => {
    const refusals: Array<Record<string, unknown>> = [{ options: '-c statement_timeout=abc' }, { options: '-c no_such_setting=1' }, { options: '-c max_connections=5' }];
    for (const extra of refusals) {
      const answers = [];
      for (const t of ['direct', 'transaction', 'session'] as Target[]) {
        const c = new pg.Client(config(t, extra));
        const err = (await c.connect().then(
          () => null,
          (e: Error & { code?: string; severity?: string }) => e,
        )) as (Error & { code?: string; severity?: string }) | null;
        await c.end().catch(() => {});
        answers.push({ code: err?.code, severity: err?.severity, message: err?.message });
      }
      expect(answers[0].code).toMatch(/^[0-9A-Z]{5}$/);
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
    }
    // A startup parameter that is no setting at all (node-postgres cannot send one: raw protocol),
    // refused as PostgreSQL refuses it.
    const t = await rawLogin(trust.address.port, { no_such_parameter: 'x' });
    const e = t.startup.find((m) => m.code === 'E');
    expect(fields(e!.body)).toMatchObject({ S: 'FATAL', C: '42704', M: 'unrecognized configuration parameter "no_such_parameter"' });
    t.socket.destroy();
    for (const p of [tx, session]) {
      const c = new pg.Client({ ...config('direct', {}), port: p.address.port });
      await c.connect();
      expect((await c.query('SELECT 2 AS n')).rows[0].n).toBe(2);
      await c.end();
    }
  });

  it('a replication connection is refused with a coded error', async () => {
    const s = await rawSocket(trust.address.port);
    s.socket.write(startupMessage({ user: 'postgres', database: 'postgres', replication: 'database' }));
    const got = await s.waitFor((b) => errorCode(b) !== null);
    expect(errorCode(got)).toBe('0A000');
    expect(got.toString('utf8')).toContain('replication connections are not supported');
    s.socket.destroy();
  });

  it('a client encoding other than UTF8: query text and named statements pass byte for byte', async () => {
    const t = await rawLogin(trust.address.port, { client_encoding: 'LATIN1' });
    expect(t.startup.filter((m) => m.code === 'S').map((m) => m.body.toString('latin1'))).toContain('client_encoding\0LATIN1\0');
    // 'café' in LATIN1 is 63 61 66 e9; the server converts it to UTF8 63 61 66 c3 a9.
    const sql = Buffer.concat([Buffer.from("SELECT convert_to('caf"), Buffer.from([0xe9]), Buffer.from("', 'UTF8')::text AS u")]);
    const name = Buffer.from([0x73, 0xe9]); // a statement name with a LATIN1 byte
    const simple = await t.exchange(ext.query(sql));
    const row = (list: Array<{ code: string; body: Buffer }>) => {
      const d = list.find((m) => m.code === 'D')!;
      return d.body.toString('latin1', 6);
    };
    expect(row(simple)).toBe('\\x636166c3a9');
    const first = await t.exchange(Buffer.concat([ext.parse(name, sql), ext.bind('', name), ext.execute(), ext.sync()]));
    expect(first.map((m) => m.code).join('')).toBe('12DCZ');
    expect(row(first)).toBe('\\x636166c3a9');
    // Another client takes a backend meanwhile, so the statement may be prepared again elsewhere.
    const other = await rawLogin(trust.address.port, { client_encoding: 'LATIN1' });
    await other.exchange(ext.query('BEGIN'));
    const again = await t.exchange(Buffer.concat([ext.bind('', name), ext.execute(), ext.sync()]));
    expect(again.map((m) => m.code).join('')).toBe('2DCZ');
    expect(row(again)).toBe('\\x636166c3a9');
    await other.exchange(ext.query('COMMIT'));
    t.socket.destroy();
    other.socket.destroy();
  });
});

const psql = pgTool('psql');
describe.skipIf(!psql)('psql directly and through the proxy', () => {
  if (!psql) console.warn(`skipped: ${toolMissing('psql')}`);
  // Asynchronous: the proxy runs in this process.
  const run = async (port: number, conninfo: string, sql: string, env: Record<string, string> = {}) =>
    (await promisify(execFile)(psql!, [`host=127.0.0.1 port=${port} user=postgres dbname=postgres ${conninfo}`, '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-f', sql], {
      encoding: 'latin1',
      env: { ...process.env, PGPASSWORD: 'secret-pw', PGCONNECT_TIMEOUT: '30', ...env },
    })).stdout;

  it('application_name, options and PGCLIENTENCODING give the same answers', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-psql-'));
    try {
      const file = path.join(dir, 'q.sql');
      fs.writeFileSync(
        file,
        Buffer.concat([
          Buffer.from(
            "SELECT current_setting('application_name'), current_setting('DateStyle'), current_setting('TimeZone'), current_setting('search_path'), current_setting('client_encoding');\n" +
              "SELECT '2024-03-05 13:14:15+00'::timestamptz;\nSHOW statement_timeout;\nSELECT convert_to('caf",
          ),
          Buffer.from([0xe9]),
          Buffer.from("', 'UTF8');\n"),
        ]),
      );
      const conninfo = "application_name=psql-check options='-c DateStyle=German -c TimeZone=Europe/Paris -c search_path=pg_catalog,public -c statement_timeout=1234'";
      const env = { PGCLIENTENCODING: 'LATIN1' };
      const direct = await run(server.get().port, conninfo, file, env);
      expect(direct).toContain('psql-check|German, DMY|Europe/Paris|pg_catalog,public|LATIN1');
      expect(direct).toContain('\\x636166c3a9');
      expect(await run(tx.address.port, conninfo, file, env)).toBe(direct);
      expect(await run(session.address.port, conninfo, file, env)).toBe(direct);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
