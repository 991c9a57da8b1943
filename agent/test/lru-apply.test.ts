/**
 * An LRUCache's round trip at the level of the dirty set: a worker-side copy built as the worker
 * builds it (options, then load of the server's dump), changed, diffed into one 'lru' operation,
 * applied to the server's cache — and the operation's bad inputs: a stale "before" is a conflict
 * that leaves the cache as it was, a forged or malformed operation is refused with its code, and a
 * set that fails half-way restores the cache.
 */
import { LRUCache } from 'lru-cache';
import { describe, expect, it } from 'vitest';
import { copyLruDump, registerLruClass, type Change } from '../../protocol';
import { ClosureSpace } from '../../offload-worker/closure-space';
import { applyChanges } from '../offload/4-apply';

registerLruClass(LRUCache);
const order = (c: LRUCache<string, unknown>) => [...c.entries()];

function replicaOf(server: LRUCache<string, unknown>, options: ConstructorParameters<typeof LRUCache<string, unknown>>[0]) {
  const copy = new LRUCache<string, unknown>(options);
  copy.load(copyLruDump(server.dump() as never) as never);
  const space = new ClosureSpace();
  space.register(copy, 1);
  space.settle();
  return { copy, space };
}

describe("an LRUCache's changes applied as one operation", () => {
  it('recency, sets, deletes and TTLs come back in the worker order', () => {
    const options = { max: 4, ttl: 60_000 };
    const server = new LRUCache<string, unknown>(options);
    for (const k of ['a', 'b', 'c']) server.set(k, k.toUpperCase());
    const { copy, space } = replicaOf(server, options);
    copy.get('a');
    copy.set('d', 'D');
    copy.delete('b');
    copy.set('e', 'E', { ttl: 5_000 });
    const changes = space.diff();
    expect(changes).toHaveLength(1);
    expect(changes[0].ops.map((op) => op[0])).toEqual(['lru']);
    applyChanges(changes, (id) => (id === 1 ? server : undefined));
    expect(order(server)).toEqual(order(copy));
    expect(server.getRemainingTTL('e')).toBeLessThanOrEqual(5_000);
    expect(server.getRemainingTTL('e')).toBeGreaterThan(4_000);
  });

  it('nothing to apply when the handler only peeked', () => {
    const options = { max: 4, ttl: 60_000 };
    const server = new LRUCache<string, unknown>(options);
    server.set('a', 1);
    server.set('b', 2);
    const { copy, space } = replicaOf(server, options);
    expect(copy.peek('a')).toBe(1);
    expect(copy.has('b')).toBe(true);
    expect(space.diff()).toEqual([]);
  });

  it('a cache another request changed meanwhile is a conflict, and stays as that request left it', () => {
    const options = { max: 4 };
    const server = new LRUCache<string, unknown>(options);
    server.set('a', 1);
    const { copy, space } = replicaOf(server, options);
    copy.set('b', 2);
    const changes = space.diff();
    server.set('a', 100);
    expect(() => applyChanges(changes, () => server)).toThrow(expect.objectContaining({ code: 'BEEHIVE_ERR_CHANNEL_CONFLICT' }));
    expect(order(server)).toEqual([['a', 100]]);
  });

  it('refuses an lru operation on anything but a recognised LRUCache, or with malformed entries', () => {
    const op = (after: unknown, before: unknown): Change[] => [{ id: 1, ops: [['lru', after as unknown[], before as unknown[]]] }];
    expect(() => applyChanges(op([], []), () => ({}))).toThrow(expect.objectContaining({ code: 'BEEHIVE_ERR_CHANNEL_MALFORMED' }));
    expect(() => applyChanges(op([], []), () => new Map())).toThrow(expect.objectContaining({ code: 'BEEHIVE_ERR_CHANNEL_MALFORMED' }));
    const server = new LRUCache<string, unknown>({ max: 2 });
    for (const bad of [[['k']], [['k', null]], [['k', { value: 1, ttl: 'x' }]], [['k', { value: 1, start: Infinity }]], 'entries', [{ 0: 'k', 1: { value: 1 } }]]) {
      expect(() => applyChanges(op(bad, []), () => server), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'BEEHIVE_ERR_CHANNEL_MALFORMED' }));
    }
    expect(server.size).toBe(0);
  });

  it("a large cache's logged calls replay at the commit, and one that answers otherwise there is a conflict that leaves the cache as it was", () => {
    const server = new LRUCache<string, unknown>({ max: 3 });
    for (const k of ['a', 'b', 'c']) server.set(k, k.toUpperCase());
    const ok: Change[] = [{ id: 1, ops: [['lcall', 'get', ['a'], 'A'], ['lcall', 'set', ['d', 'D'], undefined], ['lcall', 'has', ['b'], false], ['lcall', 'delete', ['c'], true]] }];
    applyChanges(ok, () => server);
    // get(a) made a the most recent, set(d) evicted b, delete(c) left a and d.
    expect(order(server)).toEqual([['d', 'D'], ['a', 'A']]);
    const before = order(server);
    // The worker was told get(a) is 'A' but another request has since set it: conflict, nothing applied.
    server.set('a', 'A2');
    const stale: Change[] = [{ id: 1, ops: [['lcall', 'set', ['e', 'E'], undefined], ['lcall', 'get', ['a'], 'A']] }];
    expect(() => applyChanges(stale, () => server)).toThrow(expect.objectContaining({ code: 'BEEHIVE_ERR_CHANNEL_CONFLICT' }));
    expect(order(server)).toEqual([['a', 'A2'], ...before.filter(([k]) => k !== 'a')]);
    for (const bad of [['lcall', 'clear', ['a'], undefined], ['lcall', 'get', 'a', undefined], ['lcall', 'get', [], undefined], ['lcall', 'set', [1, 2, 3, 4], undefined]]) {
      expect(() => applyChanges([{ id: 1, ops: [bad as never] }], () => server), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'BEEHIVE_ERR_CHANNEL_MALFORMED' }));
    }
    expect(() => applyChanges([{ id: 1, ops: [['lcall', 'get', ['a'], 'A']] }], () => new Map())).toThrow(expect.objectContaining({ code: 'BEEHIVE_ERR_CHANNEL_MALFORMED' }));
  });

  it('a later write that throws undoes the cache as well', () => {
    const options = { max: 4 };
    const server = new LRUCache<string, unknown>(options);
    server.set('a', 1);
    const { copy, space } = replicaOf(server, options);
    copy.set('b', 2);
    const changes: Change[] = [...space.diff()];
    const trap = Object.defineProperty({}, 'x', { get: () => undefined, set: () => { throw new Error('setter refused'); }, enumerable: true });
    changes.push({ id: 2, ops: [['set', 'x', 1, undefined, true]] });
    expect(() => applyChanges(changes, (id) => (id === 1 ? server : id === 2 ? trap : undefined))).toThrow(expect.objectContaining({ code: 'BEEHIVE_ERR_CHANNEL_CONFLICT' }));
    expect(order(server)).toEqual([['a', 1]]);
  });
});
