/**
 * Errors in the extended protocol, compared message by message with a direct connection: a failing
 * Parse, Bind or Execute inside a pipeline (the rest skipped up to Sync, then ReadyForQuery with the
 * right transaction status), named statements across transaction-pooled backends (a second Parse
 * of a name, a Close or Parse the server skipped, DEALLOCATE ALL, a re-prepare that fails).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type ProxyHandle } from '../index';
import { usePg } from './pg-server';
import { ext, fields, rawLogin } from './helpers';

// Cleartext passwords on the server: the raw direct client below needs no SCRAM of its own.
const server = usePg('password');
let tx: ProxyHandle;
let session: ProxyHandle;

beforeAll(async () => {
  tx = await startProxy({ upstream: server.get().url, listen: { port: 0 }, auth: 'trust', maxBackends: 2 });
  session = await startProxy({ upstream: server.get().url, listen: { port: 0 }, auth: 'trust', poolMode: 'session', maxBackends: 4 });
});
afterAll(async () => {
  await Promise.all([tx?.close(), session?.close()]);
});

type Target = 'direct' | 'transaction' | 'transaction, switching backends' | 'session';
const portOf = (t: Target) => (t === 'direct' ? server.get().port : t === 'session' ? session.address.port : tx.address.port);

/** What a client sees, message by message (errors by SQLSTATE and message, statuses, tags, rows). */
function summary(list: Array<{ code: string; body: Buffer }>): string[] {
  return list
    .filter((m) => m.code !== 'S' && m.code !== 'N' && m.code !== 'K')
    .map((m) => {
      if (m.code === 'E') {
        const f = fields(m.body);
        return `E ${f.C} ${f.M}`;
      }
      if (m.code === 'Z') return `Z ${String.fromCharCode(m.body[0])}`;
      if (m.code === 'C') return `C ${m.body.toString('utf8', 0, m.body.length - 1)}`;
      if (m.code === 'D') {
        const n = m.body.readInt16BE(0);
        const vals = [];
        let i = 2;
        for (let k = 0; k < n; k++) {
          const len = m.body.readInt32BE(i);
          vals.push(len < 0 ? 'NULL' : m.body.toString('utf8', i + 4, i + 4 + len));
          i += 4 + Math.max(len, 0);
        }
        return `D ${vals.join(',')}`;
      }
      return m.code;
    });
}

const readiesIn = (b: Buffer[]) => b.filter((m) => m[0] === 0x53 /* S */ || m[0] === 0x51 /* Q */).length;

/** Runs the batches one after another on one connection; with switching, another client holds a backend every other batch. */
async function run(t: Target, batches: Buffer[][]): Promise<string[][]> {
  const c = await rawLogin(portOf(t), {}, 'secret-pw');
  const other = t === 'transaction, switching backends' ? await rawLogin(tx.address.port, {}) : null;
  const out: string[][] = [];
  try {
    for (let i = 0; i < batches.length; i++) {
      const hold = other && i % 2 === 0;
      if (hold) await other.exchange(ext.query('BEGIN; SELECT 1'));
      out.push(summary(await c.exchange(Buffer.concat(batches[i]), readiesIn(batches[i]))));
      if (hold) await other.exchange(ext.query('COMMIT'));
    }
  } finally {
    c.socket.destroy();
    other?.socket.destroy();
  }
  return out;
}

const { parse: P, bind: B, execute: E, sync: S, query: Q, close: C, describe: D } = ext;

const kCases: Array<[string, Buffer[][], (direct: string[][]) => void]> = [
  [
    'a Parse error mid-pipeline: the rest skipped up to Sync',
    [[P('', 'SELECT 1'), B('', ''), E(), P('', 'SELEC 2'), B('', ''), E(), S()], [Q('SELECT 3')]],
    (d) => expect(d[0]).toEqual(['1', '2', 'D 1', 'C SELECT 1', 'E 42601 syntax error at or near "SELEC"', 'Z I']),
  ],
  [
    'a Bind error (wrong parameter count) on a named statement, which stays usable',
    [[P('s1', 'SELECT $1::int AS n'), B('', 's1', []), E(), S()], [B('', 's1', ['5']), E(), S()]],
    (d) => expect(d[0][1]).toMatch(/^E 08P01 bind message supplies 0 parameters/),
  ],
  [
    'an Execute error inside a transaction: status E, later statements refused with 25P02 until ROLLBACK',
    [[Q('BEGIN')], [P('', 'SELECT 1/0'), B('', ''), E(), S()], [P('', 'SELECT 1'), B('', ''), E(), S()], [Q('ROLLBACK')], [Q('SELECT 4')]],
    (d) => {
      expect(d[1]).toEqual(['1', 'E 22012 division by zero', 'Z E']);
      expect(d[2][0]).toMatch(/^E 25P02/);
      expect(d[3]).toEqual(['C ROLLBACK', 'Z I']);
    },
  ],
  [
    'several Syncs in one pipeline: an error ends only its own part',
    [[P('', 'SELECT 1/0'), B('', ''), E(), S(), P('', 'SELECT 5'), B('', ''), E(), S()]],
    (d) => expect(d[0]).toEqual(['1', 'E 22012 division by zero', 'Z I', '1', '2', 'D 5', 'C SELECT 1', 'Z I']),
  ],
  [
    'a second Parse of a name still defined: 42P05 naming the client\'s statement, the first kept',
    [
      [P('d1', 'SELECT 1'), S()],
      [P('d1', 'SELECT 2'), B('', 'd1'), E(), S()],
      [B('', 'd1'), E(), S()],
      [C('S', 'd1'), P('d1', 'SELECT 3'), B('', 'd1'), E(), S()],
      [P('d1', 'SELEC'), S()],
    ],
    (d) => {
      expect(d[1]).toEqual(['E 42P05 prepared statement "d1" already exists', 'Z I']);
      expect(d[2]).toEqual(['2', 'D 1', 'C SELECT 1', 'Z I']);
      expect(d[3]).toEqual(['3', '1', '2', 'D 3', 'C SELECT 1', 'Z I']);
      expect(d[4]).toEqual(['E 42601 syntax error at or near "SELEC"', 'Z I']);
    },
  ],
  [
    'a Close and a Parse the server skipped after an error leave the names as they were',
    [[P('c1', 'SELECT 10'), S()], [P('', 'SELEC'), C('S', 'c1'), P('g1', 'SELECT 11'), S()], [B('', 'c1'), E(), S()], [B('', 'g1'), E(), S()]],
    (d) => {
      expect(d[2]).toEqual(['2', 'D 10', 'C SELECT 1', 'Z I']);
      expect(d[3]).toEqual(['E 26000 prepared statement "g1" does not exist', 'Z I']);
    },
  ],
  [
    'unknown statement names in Bind and Describe',
    [[B('', 'nope'), E(), S()], [D('S', 'nope'), S()], [D('P', 'nope'), S()]],
    (d) => expect(d[0]).toEqual(['E 26000 prepared statement "nope" does not exist', 'Z I']),
  ],
  [
    'DEALLOCATE ALL drops the client\'s statements',
    [[P('k1', 'SELECT 1'), S()], [Q('DEALLOCATE ALL')], [B('', 'k1'), E(), S()], [P('k1', 'SELECT 2'), B('', 'k1'), E(), S()]],
    (d) => expect(d[2]).toEqual(['E 26000 prepared statement "k1" does not exist', 'Z I']),
  ],
  [
    'a statement whose table went away fails at Bind as directly (re-prepared elsewhere or not)',
    [[Q('CREATE TABLE gone (x int)')], [P('r1', 'SELECT x FROM gone'), S()], [Q('DROP TABLE gone')], [B('', 'r1'), E(), S()], [Q('SELECT 6')]],
    (d) => expect(d[3]).toEqual(['E 42P01 relation "gone" does not exist', 'Z I']),
  ],
];

describe('extended-protocol errors as PostgreSQL reports them', () => {
  for (const [what, batches, check] of kCases) {
    it(what, async () => {
      const direct = await run('direct', batches);
      check(direct);
      for (const t of ['transaction', 'transaction, switching backends', 'session'] as Target[]) {
        expect({ t, got: await run(t, batches) }).toEqual({ t, got: direct });
      }
    });
  }

  it('the proxy keeps serving after all of them', async () => {
    for (const p of [tx, session]) {
      const c = await rawLogin(p.address.port, {});
      expect(summary(await c.exchange(Buffer.concat([P('', 'SELECT 7'), B('', ''), E(), S()])))).toEqual(['1', '2', 'D 7', 'C SELECT 1', 'Z I']);
      c.socket.destroy();
    }
  });
});
