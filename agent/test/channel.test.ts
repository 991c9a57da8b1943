import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ExportTable } from '../../gc';
import { decode, decodeFrame, encodeFrame, MsgType, ChannelErrors, encode } from '../../protocol';
import { ChannelServer } from '../channel/server';
import { Invocations } from '../channel/invocations';
import { LockManager } from '../locks';

/** The channel against hostile peers: a real ws server, real clients, forged and broken frames. */
describe('channel server: authentication, authorisation and bad input', () => {
  const exportsTable = new ExportTable();
  const locks = new LockManager();
  const invocations = new Invocations(locks);
  const secret = { password: 'hunter2' };
  const shipped = { visible: 1, nested: { deep: true } };
  let server: ChannelServer;
  let url: string;
  let inv: { id: string; cap: string; leasedId: number };
  /** Every invocation a test opened: the last test ends them all. */
  const opened: string[] = [];

  beforeAll(async () => {
    server = new ChannelServer({ host: '127.0.0.1', port: 0, invocations, exports: exportsTable, budget: 1 << 20, appRoot: __dirname, maxFrameBytes: 64 * 1024 });
    const a = await server.listen();
    url = `ws://127.0.0.1:${a.port}`;
    const lease = exportsTable.lease();
    const leasedId = lease.grant(shipped);
    exportsTable.idOf(secret); // known to the server, never leased to this invocation
    const { record, cap } = invocations.open('GET /x', lease, new Set());
    inv = { id: record.id, cap, leasedId };
    opened.push(record.id);
  });
  afterAll(async () => {
    await server.close();
  });

  /** A connection authenticated at the upgrade with `as` (the test's invocation by default). */
  async function client(as: { id: string; cap: string } = inv): Promise<WebSocket> {
    const ws = new WebSocket(url, { headers: { 'x-beehive-inv': as.id, 'x-beehive-cap': as.cap } });
    await once(ws, 'open');
    return ws;
  }
  async function request(ws: WebSocket, frame: Buffer | string): Promise<ReturnType<typeof decodeFrame>> {
    const reply = once(ws, 'message');
    ws.send(frame);
    const [data] = await reply;
    return decodeFrame(data as Buffer);
  }
  const fetchFrame = (id: number, header: Record<string, unknown>) => encodeFrame(MsgType.Fetch, 7, { ...header, id });
  /** A fresh invocation leasing `shipped`, for a test that ends or dooms the one it uses. */
  function openInvocation(route: string): { id: string; cap: string; leasedId: number } {
    const lease = exportsTable.lease();
    const leasedId = lease.grant(shipped);
    const { record, cap } = invocations.open(route, lease, new Set());
    opened.push(record.id);
    return { id: record.id, cap, leasedId };
  }
  /** Dooms an invocation as a hostile worker would: a lock release whose commit names an object outside its lease. */
  async function doom(ws: WebSocket, as: { id: string; cap: string }, key: string): Promise<ReturnType<typeof decodeFrame>> {
    const acq = await request(ws, encodeFrame(MsgType.LockAcquire, 10, { inv: as.id, cap: as.cap, key }));
    expect(acq.type).toBe(MsgType.Ok);
    const body = encode({ changes: [{ id: exportsTable.idOf(secret), ops: [['set', 'password', 'pwned', 'hunter2', true]] }] }).bytes;
    return request(ws, encodeFrame(MsgType.LockRelease, 11, { inv: as.id, cap: as.cap, key }, body));
  }

  it('serves a leased object to the invocation holding the capability', async () => {
    const ws = await client();
    const f = await request(ws, fetchFrame(inv.leasedId, { inv: inv.id, cap: inv.cap }));
    expect(f.type).toBe(MsgType.Ok);
    expect(f.id).toBe(7);
    expect(decode(f.body, { onObject: () => {} })).toEqual(shipped);
    ws.close();
  });

  it('refuses a wrong capability, a missing one and an unknown invocation with AUTH', async () => {
    const ws = await client();
    for (const header of [{ inv: inv.id, cap: 'A'.repeat(32) }, { inv: inv.id }, { inv: 'nope', cap: inv.cap }, { inv: inv.id, cap: inv.cap.slice(0, -2) }]) {
      const f = await request(ws, fetchFrame(inv.leasedId, header));
      expect(f.type).toBe(MsgType.Error);
      expect(f.header.code).toBe(ChannelErrors.AUTH.code);
    }
    ws.close();
  });

  it('refuses objects not leased to the invocation with FORBIDDEN, even when the server knows them', async () => {
    const ws = await client();
    const f = await request(ws, fetchFrame(exportsTable.idOf(secret), { inv: inv.id, cap: inv.cap }));
    expect(f.header.code).toBe(ChannelErrors.FORBIDDEN.code);
    expect(f.body.length).toBe(0);
    ws.close();
  });

  it('serves ranges of a leased array, refuses hostile ones with coded errors, and sends a non-plain array whole', async () => {
    const big = Array.from({ length: 2000 }, (_, i) => ({ i }));
    const odd = Object.assign([1, 2, 3], { meta: 1 }) as unknown[] & { meta: number };
    Object.defineProperty(odd, 'map', { value: () => 'own map', enumerable: false });
    const own = openInvocation('GET /range');
    const lease = invocations.authorize(own.id, own.cap)!.lease;
    const bigId = lease.grant(big);
    const oddId = lease.grant(odd);
    const ws = await client(own);
    const range = (h: Record<string, unknown>) => request(ws, encodeFrame(MsgType.FetchRange, 12, { inv: own.id, cap: own.cap, ...h }));
    const ok = await range({ id: bigId, start: 10, count: 5, names: true });
    expect(ok.type).toBe(MsgType.Ok);
    expect(ok.header).toMatchObject({ length: 2000, start: 10 });
    expect(ok.header.names).toContain('slice');
    expect(decode(ok.body, { onObject: () => {} })).toEqual([{ i: 10 }, { i: 11 }, { i: 12 }, { i: 13 }, { i: 14 }]);
    // Past the end: no elements, the length.
    const past = await range({ id: bigId, start: 5000, count: 5 });
    expect(past.header).toMatchObject({ length: 2000, start: 5000 });
    expect(decode(past.body, { onObject: () => {} })).toEqual([]);
    // An array with an own `map`: not what a range reply vouches for, so it comes whole.
    const whole = await range({ id: oddId, start: 0, count: 2 });
    expect(whole.header.whole).toBe(true);
    // An accessor in the range: whole too, and its getter never runs to decide it.
    let gets = 0;
    const trap = Array.from({ length: 2000 }, (_, i) => i);
    Object.defineProperty(trap, 5, { get: () => ++gets, enumerable: true, configurable: true });
    const trapId = lease.grant(trap);
    const t = await range({ id: trapId, start: 0, count: 10 });
    expect(t.header.whole).toBe(true);
    expect(gets).toBe(0);
    for (const bad of [{ id: bigId, start: -1, count: 5 }, { id: bigId, start: 0, count: 'x' }, { id: bigId, start: 0.5, count: 1 }, { id: bigId }]) {
      const f = await range(bad);
      expect(f.header.code, JSON.stringify(bad)).toBe(ChannelErrors.MALFORMED.code);
    }
    const forbidden = await range({ id: exportsTable.idOf(secret), start: 0, count: 1 });
    expect(forbidden.header.code).toBe(ChannelErrors.FORBIDDEN.code);
    // A huge count is capped: the server still answers, with at most its own range size.
    const capped = await range({ id: bigId, start: 0, count: 1e12 });
    expect(capped.type).toBe(MsgType.Ok);
    expect((decode(capped.body, { onObject: () => {} }) as unknown[]).length).toBe(2000);
    ws.close();
  });

  it('answers one weak-collection entry and a promise settlement, refuses hostile asks with coded errors', async () => {
    const own = openInvocation('GET /weak');
    const record = invocations.authorize(own.id, own.cap)!;
    const lease = record.lease;
    const key = { k: 1 };
    const other = { k: 2 };
    const wm = new WeakMap<object, unknown>([[key, { v: 'value' }]]);
    const ws1 = new WeakSet<object>([key]);
    const wmId = lease.grant(wm);
    const wsId = lease.grant(ws1);
    const keyId = lease.grant(key);
    const otherId = lease.grant(other);
    const plainId = lease.grant({ not: 'weak' });
    let settle!: (v: unknown) => void;
    const pending = new Promise((r) => (settle = r));
    const promiseId = lease.grant(pending);
    const ws = await client(own);
    const weak = (h: Record<string, unknown>) => request(ws, encodeFrame(MsgType.WeakGet, 13, { inv: own.id, cap: own.cap, ...h }));
    const hit = await weak({ id: wmId, key: keyId });
    expect(hit.type).toBe(MsgType.Ok);
    expect(hit.header.has).toBe(true);
    expect(decode(hit.body, { onObject: () => {} })).toEqual({ v: 'value' });
    const miss = await weak({ id: wmId, key: otherId });
    expect(miss.header.has).toBe(false);
    expect((await weak({ id: wsId, key: keyId })).header.has).toBe(true);
    // What it answered is a read: another request's change to that entry fails the commit.
    expect(record.reads.changed()).toBeUndefined();
    wm.set(other, 'meanwhile');
    expect(() => record.reads.validate(() => 'x')).toThrow(expect.objectContaining({ code: ChannelErrors.CONFLICT.code }));
    expect((await weak({ id: plainId, key: keyId })).header.code).toBe(ChannelErrors.MALFORMED.code);
    expect((await weak({ id: wmId, key: exportsTable.idOf(secret) })).header.code).toBe(ChannelErrors.FORBIDDEN.code);
    expect((await weak({ id: exportsTable.idOf(secret), key: keyId })).header.code).toBe(ChannelErrors.FORBIDDEN.code);
    for (const bad of [{ id: wmId }, { id: wmId, key: 'x' }, { id: wmId, key: -1 }, { key: keyId }]) {
      expect((await weak(bad)).header.code, JSON.stringify(bad)).toBe(ChannelErrors.MALFORMED.code);
    }
    // A large LRUCache left on the server: one key's answer, computed without changing the cache.
    const { LRUCache } = await import('lru-cache');
    const { registerLruClass } = await import('../../protocol');
    registerLruClass(LRUCache);
    const cache = new LRUCache<unknown, unknown>({ max: 10 });
    cache.set('a', { v: 1 });
    cache.set(key, 'by object');
    cache.set('b', 2);
    const cacheId = lease.grant(cache);
    const lru = (h: Record<string, unknown>) => request(ws, encodeFrame(MsgType.LruRead, 17, { inv: own.id, cap: own.cap, id: cacheId, ...h }));
    expect(decode((await lru({ method: 'get', key: 'a' })).body, { onObject: () => {} })).toEqual({ v: 1 });
    expect(decode((await lru({ method: 'get', keyId })).body, { onObject: () => {} })).toBe('by object');
    expect(decode((await lru({ method: 'has', key: 'zz' })).body, { onObject: () => {} })).toBe(false);
    expect(decode((await lru({ method: 'delete', key: 'b' })).body, { onObject: () => {} })).toBe(true);
    expect([...cache.keys()]).toEqual(['b', key, 'a']); // nothing moved, nothing deleted
    for (const bad of [{ method: 'clear', key: 'a' }, { method: 'get' }, { method: 'get', key: { o: 1 } }, { method: 'get', key: [1] }, { method: 'get', keyId: 'x' }]) {
      expect((await lru(bad)).header.code, JSON.stringify(bad)).toBe(ChannelErrors.MALFORMED.code);
    }
    expect((await lru({ method: 'get', keyId: exportsTable.idOf(secret) })).header.code).toBe(ChannelErrors.FORBIDDEN.code);
    expect((await request(ws, encodeFrame(MsgType.LruRead, 18, { inv: own.id, cap: own.cap, id: wmId, method: 'get', key: 'a' }))).header.code).toBe(ChannelErrors.MALFORMED.code);
    // A promise: answered when it settles; a non-promise refused.
    const asked = request(ws, encodeFrame(MsgType.Await, 14, { inv: own.id, cap: own.cap, id: promiseId }));
    settle({ done: true });
    const answer = await asked;
    expect(answer.type).toBe(MsgType.Ok);
    expect(decode(answer.body, { onObject: () => {} })).toEqual({ ok: true, v: { done: true } });
    expect((await request(ws, encodeFrame(MsgType.Await, 15, { inv: own.id, cap: own.cap, id: plainId }))).header.code).toBe(ChannelErrors.FORBIDDEN.code);
    // Settled before it was asked for: answered at once; asked again: the same answer.
    const early = Promise.reject(new Error('early'));
    early.catch(() => {});
    const earlyId = lease.grant(early);
    for (const n of [19, 20]) {
      const r = await request(ws, encodeFrame(MsgType.Await, n, { inv: own.id, cap: own.cap, id: earlyId }));
      expect((decode(r.body, { onObject: () => {} }) as { ok: boolean; v: Error }).v.message).toBe('early');
    }
    // One that never settles is refused once its invocation ends, not kept waiting.
    const never = lease.grant(new Promise(() => {}));
    const waiting = request(ws, encodeFrame(MsgType.Await, 16, { inv: own.id, cap: own.cap, id: never }));
    invocations.close(own.id);
    expect((await waiting).header.code).toBe(ChannelErrors.ENDED.code);
    ws.close();
  });

  it('refuses module fallback outside the app folder', async () => {
    const ws = await client();
    const f = await request(ws, encodeFrame(MsgType.Module, 8, { inv: inv.id, cap: inv.cap, from: __filename, spec: '/etc/passwd' }));
    expect(f.header.code).toBe(ChannelErrors.MODULE.code);
    const g = await request(ws, encodeFrame(MsgType.Module, 9, { inv: inv.id, cap: inv.cap, from: '/etc/hosts', spec: './x' }));
    expect(g.header.code).toBe(ChannelErrors.MODULE.code);
    ws.close();
  });

  it('refuses a commit that references objects outside the lease', async () => {
    const own = openInvocation('GET /outside');
    const ws = await client(own);
    const rel = await doom(ws, own, 'k');
    expect(rel.header.code).toBe(ChannelErrors.FORBIDDEN.code);
    expect(secret.password).toBe('hunter2');
    expect(locks.holder('k')).toBeUndefined();
    ws.close();
  });

  it.each([
    ['truncated header', Buffer.from([0xb7, 1, 2, 0, 0])],
    ['bad magic', Buffer.from([0x00, 1, 2, 0, 0, 0, 1, 0, 0, 0, 0])],
    ['wrong version', Buffer.from([0xb7, 9, 2, 0, 0, 0, 1, 0, 0, 0, 0])],
    ['unknown type', Buffer.from([0xb7, 1, 99, 0, 0, 0, 1, 0, 0, 0, 0])],
    ['header longer than the frame', Buffer.from([0xb7, 1, 2, 0, 0, 0, 1, 0, 0, 0, 50, 0x7b])],
    ['header not JSON', Buffer.concat([Buffer.from([0xb7, 1, 2, 0, 0, 0, 1, 0, 0, 0, 3]), Buffer.from('{{{')])],
  ])('answers a malformed frame (%s) with a coded error and closes that connection', async (_name, frame) => {
    const ws = await client();
    const closed = once(ws, 'close');
    const f = await request(ws, frame);
    expect(f.type).toBe(MsgType.Error);
    expect(String(f.header.code)).toMatch(/^BEEHIVE_ERR_CHANNEL_(MALFORMED|VERSION|UNKNOWN_TYPE)$/);
    await closed;
  });

  it('refuses text frames and frames over the size limit', async () => {
    const ws = await client();
    const f = await request(ws, 'hello');
    expect(f.header.code).toBe(ChannelErrors.MALFORMED.code);
    const ws2 = await client();
    const closed = once(ws2, 'close');
    ws2.send(Buffer.alloc(128 * 1024));
    const [code] = await closed;
    expect(code).toBe(1009);
  });

  it('refuses a forged commit body with a coded codec error', async () => {
    const { record, cap } = invocations.open('GET /y', exportsTable.lease(), new Set());
    opened.push(record.id);
    const ws = await client({ id: record.id, cap });
    await request(ws, encodeFrame(MsgType.LockAcquire, 12, { inv: record.id, cap, key: 'j' }));
    const f = await request(ws, encodeFrame(MsgType.LockRelease, 13, { inv: record.id, cap, key: 'j' }, Buffer.from([0xbe, 1, 0x10, 0xff])));
    expect(String(f.header.code)).toMatch(/^BEEHIVE_ERR_CODEC_/);
    expect(locks.holder('j')).toBeUndefined();
    expect(() => invocations.commit(record.id, [])).toThrow(expect.objectContaining({ code: expect.stringMatching(/^BEEHIVE_ERR_CODEC_/) }));
    ws.close();
  });

  it('refuses a lock on an invocation whose release failed (it can no longer commit)', async () => {
    const own = openInvocation('GET /doomed');
    const ws = await client(own);
    expect((await doom(ws, own, 'before-doom')).header.code).toBe(ChannelErrors.FORBIDDEN.code);
    const f = await request(ws, encodeFrame(MsgType.LockAcquire, 14, { inv: own.id, cap: own.cap, key: 'after-doom' }));
    expect(f.type).toBe(MsgType.Error);
    expect(f.header.code).toBe(ChannelErrors.FORBIDDEN.code);
    expect(locks.holder('after-doom')).toBeUndefined();
    ws.close();
  });

  it('keeps serving well-behaved peers after refusing others', async () => {
    const refusedBefore = server.refused;
    const bad = await client();
    expect((await request(bad, fetchFrame(inv.leasedId, { inv: inv.id }))).header.code).toBe(ChannelErrors.AUTH.code);
    const closed = once(bad, 'close');
    await request(bad, Buffer.from([0x00, 1, 2, 0, 0, 0, 1, 0, 0, 0, 0]));
    await closed;
    const ws = await client();
    const f = await request(ws, fetchFrame(inv.leasedId, { inv: inv.id, cap: inv.cap }));
    expect(f.type).toBe(MsgType.Ok);
    expect(server.refused).toBeGreaterThanOrEqual(refusedBefore + 2);
    ws.close();
  });

  it('stops serving an invocation once it has ended: its capability gets ENDED, others AUTH', async () => {
    const own = openInvocation('GET /ended');
    const ws = await client(own);
    invocations.close(own.id);
    const f = await request(ws, fetchFrame(own.leasedId, { inv: own.id, cap: own.cap }));
    expect(f.header.code).toBe(ChannelErrors.ENDED.code);
    const g = await request(ws, fetchFrame(own.leasedId, { inv: own.id, cap: 'B'.repeat(32) }));
    expect(g.header.code).toBe(ChannelErrors.AUTH.code);
    ws.close();
  });

  it('drops every exported object once all invocations have ended', () => {
    for (const id of opened) invocations.close(id);
    expect(invocations.size).toBe(0);
    expect(exportsTable.size).toBe(0);
  });
});

describe('channel server: what a worker may name in a commit', () => {
  it('refuses module records the server has not loaded itself, and paths outside node_modules', async () => {
    const { serverDecodeHooks } = await import('../channel/decode-hooks');
    const table = new ExportTable();
    const hooks = serverDecodeHooks(table.lease());
    for (const spec of ['/tmp/evil.js', '../../etc/passwd', 'no-such-package/index.js']) {
      const bytes = encode({ m: 1 }, { replace: (o) => ('m' in o ? { custom: 'module', data: { spec } } : undefined) }).bytes;
      expect(() => decode(bytes, hooks)).toThrow(expect.objectContaining({ code: ChannelErrors.FORBIDDEN.code }));
    }
    const ok = encode({ m: 1 }, { replace: (o) => ('m' in o ? { custom: 'module', data: { spec: 'node:path', path: ['join'] } } : undefined) }).bytes;
    expect(decode(ok, hooks)).toBe(require('node:path').join);
  });
});
