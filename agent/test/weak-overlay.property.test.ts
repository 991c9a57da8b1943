/**
 * The WeakMap and WeakSet stand-ins (offload-worker/remote-weak.ts) against the collections
 * themselves, over random call sequences: reads answered from the server's collection one key at a
 * time, writes kept on the worker and applied at the commit (agent/offload/4-apply.ts). The answers
 * the handler gets and the collection afterwards must be what running the same calls on it
 * directly gives; and a read the server answered must be found changed at the commit when another
 * request wrote that entry meanwhile (what the channel server checks with the invocation's reads).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Change, Op } from '../../protocol';
import { makeRemoteWeak } from '../../offload-worker/remote-weak';
import { applyChanges } from '../offload/4-apply';

const N = 5;
type Call = { c: 'get' | 'has' | 'delete'; k: number } | { c: 'set'; k: number; v: number };
const call: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ c: fc.constantFrom('get' as const, 'has' as const, 'delete' as const), k: fc.nat(N - 1) }),
  fc.record({ c: fc.constant('set' as const), k: fc.nat(N - 1), v: fc.nat(9) }),
);

function run(kind: 'weakmap' | 'weakset', initial: Array<number | null>, calls: Call[], interfere?: number) {
  const keys = Array.from({ length: N }, (_, i) => ({ i }));
  const make = () => {
    const w = kind === 'weakmap' ? new WeakMap<object, unknown>() : new WeakSet<object>();
    initial.forEach((v, i) => {
      if (v === null) return;
      if (w instanceof WeakMap) w.set(keys[i], v);
      else w.add(keys[i]);
    });
    return w as WeakMap<object, unknown> & WeakSet<object>;
  };
  const apply = (w: WeakMap<object, unknown> & WeakSet<object>, x: Call): unknown => {
    if (x.c === 'set') return w instanceof WeakMap ? (w.set(keys[x.k], x.v), 'set') : (w.add(keys[x.k]), 'set');
    if (x.c === 'get') return w instanceof WeakMap ? w.get(keys[x.k]) : 'n/a';
    return w[x.c](keys[x.k]);
  };
  const local = make();
  const expected = calls.map((x) => apply(local, x));
  const server = make();
  const reads: Array<() => boolean> = [];
  let ops: Op[] = [];
  const standIn = makeRemoteWeak(1, kind, {
    keyId: (k) => keys.indexOf(k as { i: number }) + 10,
    entry: (_id, keyId) => {
      const k = keys[keyId - 10];
      const has = server.has(k);
      const value = server instanceof WeakMap ? server.get(k) : undefined;
      reads.push(() => server.has(k) === has && (!(server instanceof WeakMap) || Object.is(server.get(k), value)));
      return { has, value };
    },
    checkKey: () => {},
    track: (_id, d) => (ops = d.ops()),
    refuse: (r) => new Error(r),
  }) as WeakMap<object, unknown> & WeakSet<object>;
  const got = calls.map((x) => apply(standIn, x));
  // Another request's write between the worker's reads and its commit.
  if (interfere !== undefined) {
    if (server instanceof WeakMap) server.set(keys[interfere], 'other');
    else if (server.has(keys[interfere])) server.delete(keys[interfere]);
    else server.add(keys[interfere]);
  }
  const valid = reads.every((r) => r());
  if (valid) applyChanges(ops.length ? ([{ id: 1, ops }] as Change[]) : [], () => server);
  const state = (w: WeakMap<object, unknown> & WeakSet<object>) => keys.map((k) => [w.has(k), w instanceof WeakMap ? w.get(k) : undefined]);
  return { expected, got, valid, server: state(server), local: state(local), readKeys: reads.length };
}

describe('WeakMap and WeakSet stand-ins', () => {
  for (const kind of ['weakmap', 'weakset'] as const) {
    it(`${kind}: the handler's answers and the collection after the commit are a local run's`, () => {
      fc.assert(
        fc.property(fc.array(fc.option(fc.nat(9), { nil: null }), { minLength: N, maxLength: N }), fc.array(call, { maxLength: 12 }), (initial, calls) => {
          const r = run(kind, initial, calls);
          expect(r.valid).toBe(true);
          expect(r.got).toEqual(r.expected);
          expect(r.server).toEqual(r.local);
        }),
        { numRuns: 1000, seed: 20261201 },
      );
    });

    it(`${kind}: another request's write to an entry the handler read is caught before the commit`, () => {
      fc.assert(
        fc.property(fc.array(fc.option(fc.nat(9), { nil: null }), { minLength: N, maxLength: N }), fc.array(call, { minLength: 1, maxLength: 8 }), fc.nat(N - 1), (initial, calls, k) => {
          // Only a read of that key before any write of the handler's own to it reached the server.
          const readFirst = (() => {
            for (const x of calls) {
              if (x.k !== k || (kind === 'weakset' && x.c === 'get')) continue; // a WeakSet has no get
              return x.c !== 'set';
            }
            return false;
          })();
          const r = run(kind, initial, calls, k);
          if (readFirst) expect(r.valid).toBe(false);
        }),
        { numRuns: 1000, seed: 20261201 },
      );
    });
  }
});
