import { describe, expect, it } from 'vitest';
import { MessageReader, kStreamThreshold } from '../wire/reader';
import * as fe from '../wire/frontend-messages';
import * as be from '../wire/backend-messages';
import { splitStatements, pinReason, txControl } from '../sql/statements';
import { ShadowState } from '../session/shadow';
import { ClientStatements } from '../session/statements';
import { DeferState } from '../session/defer';
import { ScramClient, ScramServer, makeVerifier } from '../auth/scram';

// A deliberately naive builder, independent of the code under test.
const build = (code: string, ...parts: Array<string | number[] | Buffer>): Buffer => {
  const body = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p + '\0', 'utf8') : Buffer.from(p))));
  const len = body.length + 4;
  return Buffer.concat([Buffer.from([code.charCodeAt(0), (len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255]), body]);
};

type Got = Array<[string, string]>;
const collect = (reader: MessageReader, chunks: Buffer[]): Got => {
  const got: Got = [];
  const frags = new Map<number, Buffer[]>();
  for (const c of chunks) {
    reader.feed(c, {
      message: (code, buf, s, e) => got.push([String.fromCharCode(code), buf.subarray(s, e).toString('hex')]),
      fragment: (code, buf, s, e) => {
        const list = frags.get(code) ?? [];
        list.push(Buffer.from(buf.subarray(s, e)));
        frags.set(code, list);
      },
    });
  }
  for (const [code, list] of frags) got.push([`frag:${String.fromCharCode(code)}`, Buffer.concat(list).toString('hex')]);
  return got;
};

describe('MessageReader', () => {
  const msgs = [build('Q', 'SELECT 1'), build('P', 'stmt', 'SELECT $1', [0, 1, 0, 0, 0, 23]), build('S'), build('X')];
  const stream = Buffer.concat(msgs);
  const expected: Got = msgs.map((m) => [String.fromCharCode(m[0]), m.toString('hex')]);

  it('yields the same messages however the stream is split', () => {
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j += 3) {
        const got = collect(new MessageReader(1 << 20), [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]);
        expect(got).toEqual(expected);
      }
    }
  });

  it('reads startup packets without a code byte, then typed messages', () => {
    const startup = Buffer.concat([Buffer.from([0, 0, 0, 8 + 10, 0, 3, 0, 0]), Buffer.from('user\0app\0\0')]);
    const r = new MessageReader(1 << 20, true);
    const got: number[] = [];
    r.feed(startup, { message: (_code, _buf, s, e) => {
        got.push(e - s);
        r.startup = false;
      }, fragment: () => {} });
    r.feed(build('S'), { message: (code) => got.push(code), fragment: () => {} });
    expect(got).toEqual([18, 0x53]);
    expect(fe.decodeStartup(startup, 0, startup.length)).toEqual({ kind: 'startup', major: 3, minor: 0, params: { user: 'app' } });
  });

  it('rejects lengths below 4 and oversized messages before their body arrives', () => {
    expect(() => collect(new MessageReader(100), [Buffer.from([0x51, 0, 0, 0, 3])])).toThrow(/invalid message length/);
    expect(() => collect(new MessageReader(100), [Buffer.from([0x51, 0, 0, 1, 0])])).toThrow(/message too large/);
    expect(() => collect(new MessageReader(100, true), [Buffer.from([0x47, 0x45, 0x54, 0x20])])).toThrow(/message too large/);
  });

  it('streams large CopyData instead of buffering it', () => {
    const big = build('d', Buffer.alloc(kStreamThreshold * 3, 7));
    const tail = build('c');
    const pieces = [big.subarray(0, 1000), big.subarray(1000, 70_000), Buffer.concat([big.subarray(70_000), tail])];
    const got = collect(new MessageReader(100), pieces);
    expect(got).toEqual([['c', tail.toString('hex')], ['frag:d', big.toString('hex')]]);
  });
});

describe('frontend messages', () => {
  it('decodes and re-encodes Parse, Bind, Describe and Query', () => {
    const parse = build('P', 'name', 'SELECT $1', [0, 1, 0, 0, 0, 23]);
    const p = fe.decodeParse(parse, 0, parse.length);
    expect(p).toMatchObject({ name: 'name', query: 'SELECT $1' });
    expect(fe.encodeParse('other', 'SELECT $1', p.types)).toEqual(build('P', 'other', 'SELECT $1', [0, 1, 0, 0, 0, 23]));
    const bind = build('B', 'portal', 'stmt', [0, 0, 0, 1, 0, 0, 0, 1, 0x31, 0, 0]);
    const n = fe.decodeBindNames(bind, 0, bind.length);
    expect(n).toMatchObject({ portal: 'portal', statement: 'stmt' });
    expect(fe.encodeBind('portal', 'bh_x', bind, n.restAt, bind.length)).toEqual(build('B', 'portal', 'bh_x', [0, 0, 0, 1, 0, 0, 0, 1, 0x31, 0, 0]));
    const d = build('D', [0x53], 'stmt');
    expect(fe.decodeTarget(d, 0, d.length)).toEqual({ kind: 0x53, name: 'stmt' });
    expect(fe.encodeTarget(0x44, 0x53, 'x')).toEqual(build('D', [0x53], 'x'));
    expect(fe.encodeQuery('SELECT é')).toEqual(build('Q', 'SELECT é'));
    expect(() => fe.decodeParse(Buffer.from([0x50, 0, 0, 0, 6, 0x61, 0x62]), 0, 7)).toThrow(/unterminated/);
  });

  it('decodes CancelRequest and SSLRequest', () => {
    const cancel = Buffer.from([0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xfe]);
    expect(fe.decodeStartup(cancel, 0, 16)).toEqual({ kind: 'cancel', processId: 7, secretKey: -2 });
    expect(fe.decodeStartup(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]), 0, 8)).toEqual({ kind: 'ssl' });
  });
});

describe('Bind rewriting without decoding', () => {
  it('rebinds portal, statement and rest as encodeBind does; the byte lookup follows redefinitions', () => {
    const msg = Buffer.concat([Buffer.from('junk'), build('B', 'pörtal', 'stmt', [0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x31, 0, 0]), Buffer.from('junk')]);
    const start = 4;
    const end = msg.length - 4;
    const n = fe.bindNameEnds(msg, start, end);
    const stmts = new ClientStatements();
    const a = stmts.define('stmt', Buffer.from('SELECT $1'), Buffer.from([0, 0]));
    expect(stmts.getBytes(msg, n.portalEnd + 1, n.statementEnd)).toBe(a);
    expect(stmts.getBytes(msg, n.portalEnd + 1, n.statementEnd)).toBe(a);
    const rebound = fe.rebind(msg, start, end, n.portalEnd, n.statementEnd, a.serverBytes);
    const old = fe.decodeBindNames(msg, start, end);
    expect(rebound).toEqual(fe.encodeBind(old.portal, a.server, msg, old.restAt, end));
    const b = stmts.define('stmt', Buffer.from('SELECT $1 + 1'), Buffer.from([0, 0]));
    expect(stmts.getBytes(msg, n.portalEnd + 1, n.statementEnd)).toBe(b);
    stmts.forget('stmt');
    expect(stmts.getBytes(msg, n.portalEnd + 1, n.statementEnd)).toBeUndefined();
  });
});

describe('deferred commit rewriting', () => {
  it('turns transaction control into savepoints with the tags the client expects', () => {
    const idle = new DeferState(0x49 /* I */);
    expect(idle.beginSql()).toBe('BEGIN; SAVEPOINT beehive_auto');
    expect(idle.rewrite('BEGIN; INSERT INTO t VALUES (1); COMMIT', 0x54)).toBe('SAVEPOINT beehive_app; INSERT INTO t VALUES (1); RELEASE SAVEPOINT beehive_app');
    expect(idle.takeTags()).toEqual(['BEGIN', null, 'COMMIT']);
    expect(idle.finishSql('commit', 0x54)).toEqual({ sql: 'COMMIT', result: 'committed' });
    expect(idle.finishSql('rollback', 0x54)).toEqual({ sql: 'ROLLBACK', result: 'rolled-back' });
    const nested = new DeferState(0x54 /* T */);
    expect(nested.depth).toBe(1);
    expect(nested.rewrite('end', 0x54)).toBe('SAVEPOINT beehive_noop');
    expect(nested.takeTags()).toEqual(['COMMIT']);
    expect(nested.finishSql('commit', 0x54)).toEqual({ sql: 'COMMIT', result: 'committed' });
    expect(nested.finishSql('rollback', 0x54).sql).toBe('ROLLBACK TO SAVEPOINT beehive_handoff; RELEASE SAVEPOINT beehive_handoff');
    const open = new DeferState(0x54);
    expect(open.rewrite('SELECT 1', 0x54)).toBeNull();
    expect(open.finishSql('commit', 0x54)).toEqual({ sql: 'RELEASE SAVEPOINT beehive_handoff', result: 'open' });
  });
});

describe('backend messages', () => {
  it('serializes what the proxy itself sends', () => {
    expect(be.readyForQuery(0x49)).toEqual(build('Z', [0x49]));
    expect(be.backendKeyData(1, -1)).toEqual(build('K', [0, 0, 0, 1, 255, 255, 255, 255]));
    expect(be.parameterStatus('a', 'b')).toEqual(build('S', 'a', 'b'));
    expect(be.authSASL(['SCRAM-SHA-256'])).toEqual(build('R', [0, 0, 0, 10], 'SCRAM-SHA-256', [0]));
    const e = be.errorResponse({ severity: 'FATAL', code: '08P01', message: 'bad' });
    expect(e).toEqual(build('E', 'SFATAL', 'VFATAL', 'C08P01', 'Mbad', [0]));
    expect(be.decodeFields(e, 0, e.length)).toMatchObject({ C: '08P01', M: 'bad' });
  });
});

describe('SQL scanning', () => {
  it('splits statements around quotes, dollar quotes and comments', () => {
    const sql = "SELECT ';'; /* ; */ SELECT $a$;$a$ -- ;\n; SELECT E'\\';' ; ";
    expect(splitStatements(sql).map(([a, b]) => sql.slice(a, b).trim())).toEqual(["SELECT ';'", '/* ; */ SELECT $a$;$a$ -- ;', "SELECT E'\\';'"]);
  });

  it('finds transaction control and pinning state', () => {
    expect(txControl('  begin isolation level serializable')).toBe('begin');
    expect(txControl('COMMIT')).toBe('commit');
    expect(txControl('rollback to savepoint a')).toBeNull();
    expect(txControl('ABORT')).toBe('rollback');
    expect(txControl('commit prepared \'x\'')).toBeNull();
    expect(pinReason("SET search_path = x")).toBe('SET');
    expect(pinReason('SET LOCAL work_mem = 1')).toBeNull();
    expect(pinReason('UPDATE t SET a = 1')).toBeNull();
    expect(pinReason('CREATE TEMP TABLE t (a int)')).toBe('temporary table');
    expect(pinReason('SELECT pg_advisory_lock(1)')).toBe('advisory lock');
    expect(pinReason('SELECT pg_advisory_xact_lock(1)')).toBeNull();
    expect(pinReason('listen x')).toBe('LISTEN');
    expect(pinReason('DECLARE c CURSOR WITH HOLD FOR SELECT 1')).toBe('cursor WITH HOLD');
    expect(pinReason('PREPARE p AS SELECT 1')).toBe('SQL PREPARE');
    expect(pinReason("SELECT set_config('a.b', '1', false)")).toBe('set_config');
  });

  it('rewrites a shadow session transaction control into savepoints', () => {
    const s = new ShadowState(0x49);
    expect(s.rewrite('SELECT 1', 0x54)).toBeNull();
    expect(s.rewrite('BEGIN; INSERT INTO t VALUES (1); COMMIT', 0x54)).toBe('SAVEPOINT beehive_app; INSERT INTO t VALUES (1); RELEASE SAVEPOINT beehive_app');
    expect(s.rewrite('COMMIT', 0x54)).toBe('SAVEPOINT beehive_noop');
    expect(s.rewrite('begin', 0x54)).toBe('SAVEPOINT beehive_app');
    expect(s.clientStatus(0x54)).toBe(0x54);
    expect(s.rewrite('rollback', 0x45)).toBe('ROLLBACK TO SAVEPOINT beehive_app');
    expect(s.clientStatus(0x54)).toBe(0x49);
  });
});

describe('SCRAM-SHA-256', () => {
  it('authenticates our client against our server and refuses a wrong password', () => {
    const v = makeVerifier('pw', 64);
    for (const [pw, ok] of [['pw', true], ['nope', false]] as const) {
      const server = new ScramServer(v);
      const client = new ScramClient(pw);
      const first = server.first(client.first());
      const final = client.continue(first);
      if (ok) client.finish(server.final(final));
      else expect(() => server.final(final)).toThrow(/wrong password/);
    }
  });
});
