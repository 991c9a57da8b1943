import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ExportTable } from '../../gc';
import { ChannelErrors, decode, decodeFrame, encode, encodeFrame, MsgType } from '../../protocol';
import { ChannelServer } from '../channel/server';
import { Invocations } from '../channel/invocations';
import { LockManager, withLock } from '../locks';

/**
 * beehive.lock through the channel, as strict two-phase locking: a release is kept (key and dirty
 * set) until the invocation's commit point, applied there once, or discarded with the invocation.
 * Real ws server and clients; the frames are the ones a worker sends.
 */
describe('channel locks: held until the commit point, applied once', () => {
  const table = new ExportTable();
  const locks = new LockManager();
  const invocations = new Invocations(locks);
  let server: ChannelServer;
  let url: string;

  beforeAll(async () => {
    server = new ChannelServer({ host: '127.0.0.1', port: 0, invocations, exports: table, budget: 1 << 20, appRoot: __dirname, maxFrameBytes: 1 << 20 });
    url = `ws://127.0.0.1:${(await server.listen()).port}`;
  });
  afterAll(async () => {
    await server.close();
  });

  /** An invocation holding `state` in its lease, and a connection authenticated as it. */
  async function open(state: object) {
    const lease = table.lease();
    const sid = lease.grant(state);
    const { record, cap } = invocations.open('GET /n', lease, new Set());
    const ws = new WebSocket(url, { headers: { 'x-beehive-inv': record.id, 'x-beehive-cap': cap } });
    await once(ws, 'open');
    let seq = 0;
    const call = async (type: MsgType, header: Record<string, unknown>, body?: Uint8Array) => {
      const id = ++seq;
      const reply = new Promise<ReturnType<typeof decodeFrame>>((resolve) => {
        const on = (data: Buffer) => {
          const f = decodeFrame(data);
          if (f.id !== id) return;
          ws.off('message', on);
          resolve(f);
        };
        ws.on('message', on);
      });
      ws.send(encodeFrame(type, id, { inv: record.id, cap, ...header }, body));
      return reply;
    };
    const set = (k: string, v: unknown, old: unknown) => encode({ changes: [{ id: sid, ops: [['set', k, v, old, true]] }] }).bytes;
    return { record, cap, ws, call, set, sid };
  }

  it('keeps a released key held and its changes unapplied until the commit, then applies them once', async () => {
    const state = { n: 0 };
    const a = await open(state);
    expect((await a.call(MsgType.LockAcquire, { key: 'k' })).header.refresh).toBe(true);
    expect((await a.call(MsgType.LockRelease, { key: 'k' }, a.set('n', 1, 0))).type).toBe(MsgType.Ok);
    expect(state.n).toBe(0);
    expect(locks.holder('k')).toBe(a.record.id);
    // A server-side beehive.lock on the key waits for the commit and then sees the committed value.
    const local = withLock(locks, 'k', () => state.n);
    // The final dirty set was computed after the lock's changes: it applies on top of them.
    invocations.commit(a.record.id, [{ id: a.sid, ops: [['set', 'n', 2, 1, true]] }]);
    expect(state.n).toBe(2);
    expect(await local).toBe(2);
    expect(locks.holder('k')).toBeUndefined();
    a.ws.close();
  });

  it("an acquire's refresh sends what changed here since it was shipped, not everything the worker holds", async () => {
    const moved = { n: 1 };
    const still = { body: 'x'.repeat(20_000) };
    const a = await open(moved);
    const stillId = a.record.lease.grant(still);
    a.record.reads.note(moved);
    a.record.reads.note(still);
    moved.n = 2; // another request's commit
    const acq = await a.call(MsgType.LockAcquire, { key: 'refresh-k' });
    expect(acq.header.refresh).toBe(true);
    const ids: number[] = [];
    const fresh = decode(acq.body, { onObject: (_o, id) => ids.push(id) }) as unknown[];
    expect(fresh).toEqual([{ n: 2 }]);
    expect(ids).toContain(a.sid);
    expect(ids).not.toContain(stillId);
    expect(acq.body.length).toBeLessThan(1000);
    await a.call(MsgType.LockRelease, { key: 'refresh-k' }, encode({ changes: [] }).bytes);
    invocations.close(a.record.id);
    a.ws.close();
  });

  it('grants a key the invocation still holds at once, without a refresh', async () => {
    const state = { n: 0 };
    const a = await open(state);
    await a.call(MsgType.LockAcquire, { key: 're' });
    await a.call(MsgType.LockRelease, { key: 're' }, a.set('n', 1, 0));
    const again = await a.call(MsgType.LockAcquire, { key: 're' });
    expect(again.type).toBe(MsgType.Ok);
    expect(again.header.refresh).toBe(false);
    expect(again.body.length).toBe(0);
    await a.call(MsgType.LockRelease, { key: 're' }, a.set('n', 2, 1));
    // Another key once a release is pending: no refresh either (the server lacks this invocation's writes).
    const other = await a.call(MsgType.LockAcquire, { key: 're-2' });
    expect(other.header.refresh).toBe(false);
    await a.call(MsgType.LockRelease, { key: 're-2' }, encode({ changes: [] }).bytes);
    invocations.commit(a.record.id, []);
    expect(state.n).toBe(2);
    expect(locks.holder('re')).toBeUndefined();
    expect(locks.holder('re-2')).toBeUndefined();
    a.ws.close();
  });

  it('discards the pending changes and frees the key when the invocation ends without a commit', async () => {
    const state = { n: 0 };
    const a = await open(state);
    await a.call(MsgType.LockAcquire, { key: 'd' });
    await a.call(MsgType.LockRelease, { key: 'd' }, a.set('n', 1, 0));
    const next = withLock(locks, 'd', () => state.n);
    invocations.close(a.record.id);
    expect(await next).toBe(0);
    expect(state.n).toBe(0);
    expect(locks.holder('d')).toBeUndefined();
    a.ws.close();
  });

  it('refuses a second commit, and a release after the commit, with ENDED: applied once', async () => {
    const state = { n: 0 };
    const a = await open(state);
    await a.call(MsgType.LockAcquire, { key: 'e' });
    await a.call(MsgType.LockRelease, { key: 'e' }, a.set('n', 1, 0));
    invocations.commit(a.record.id, []);
    expect(() => invocations.commit(a.record.id, [])).toThrow(expect.objectContaining({ code: ChannelErrors.ENDED.code }));
    const late = await a.call(MsgType.LockRelease, { key: 'e' }, a.set('n', 2, 1));
    expect(late.type).toBe(MsgType.Error);
    expect(late.header.code).toBe(ChannelErrors.ENDED.code);
    expect(state.n).toBe(1);
    a.ws.close();
  });

  it('refuses the wait of an invocation that ends while waiting, and gives the key to the next in line', async () => {
    const state = { n: 0 };
    const a = await open(state);
    const b = await open(state);
    await a.call(MsgType.LockAcquire, { key: 'w' });
    const waiting = b.call(MsgType.LockAcquire, { key: 'w' });
    // Frames of one connection are handled in order: once this fetch is answered, b is in line.
    expect((await b.call(MsgType.Fetch, { id: b.sid })).type).toBe(MsgType.Ok);
    const third = withLock(locks, 'w', () => 'third');
    invocations.close(b.record.id);
    const refused = await waiting;
    expect(refused.type).toBe(MsgType.Error);
    expect(refused.header.code).toBe(ChannelErrors.LOCK.code);
    invocations.close(a.record.id);
    expect(await third).toBe('third');
    expect(locks.holder('w')).toBeUndefined();
    a.ws.close();
    b.ws.close();
  });

  it('refuses the whole commit when the lock changes conflict with newer server state', async () => {
    const state = { n: 0, m: 0 };
    const a = await open(state);
    await a.call(MsgType.LockAcquire, { key: 'c' });
    await a.call(MsgType.LockRelease, { key: 'c' }, a.set('n', 1, 0));
    // Someone not using the lock wrote n meanwhile: the invocation must not commit half of itself.
    state.n = 5;
    expect(() => invocations.commit(a.record.id, [{ id: a.sid, ops: [['set', 'm', 1, 0, true]] }])).toThrow(
      expect.objectContaining({ code: ChannelErrors.CONFLICT.code }),
    );
    expect(state).toEqual({ n: 5, m: 0 });
    expect(locks.holder('c')).toBeUndefined();
    a.ws.close();
  });

  it('undoes applied lock changes when a later dirty set of the same commit is refused', async () => {
    const state = { n: 0, m: 0 };
    const a = await open(state);
    await a.call(MsgType.LockAcquire, { key: 'u' });
    await a.call(MsgType.LockRelease, { key: 'u' }, a.set('n', 1, 0));
    state.m = 9;
    expect(() => invocations.commit(a.record.id, [{ id: a.sid, ops: [['set', 'm', 1, 0, true]] }])).toThrow(
      expect.objectContaining({ code: ChannelErrors.CONFLICT.code }),
    );
    expect(state).toEqual({ n: 0, m: 9 });
    a.ws.close();
  });
});
