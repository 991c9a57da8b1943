/**
 * The call log of a large LRUCache left on the server (offload-worker/remote-lru.ts), against the
 * cache itself, over random caches and random call sequences: the worker's stand-in answers each
 * call from the server's cache (unchanged while it runs) and from its own writes; the server then
 * replays the log at the commit (agent/offload/4-apply.ts). Whenever the replay commits, every
 * answer the handler got and the cache afterwards must be what running the same calls on the cache
 * directly gives; when it does not (an eviction by the handler's own sets, a stale entry), the cache
 * must be left exactly as it was. A sequence that only reads never conflicts.
 */
import fc from 'fast-check';
import { LRUCache } from 'lru-cache';
import { describe, expect, it } from 'vitest';
import { copyLruDump, lruAnswer, lruGetRemoves, registerLruClass, type Change, type Op } from '../../protocol';
import { ClosureSpace } from '../../offload-worker/closure-space';
import { makeRemoteLru } from '../../offload-worker/remote-lru';
import { applyChanges } from '../offload/4-apply';
import { fingerprint, samePrint } from '../contention/fingerprint';

registerLruClass(LRUCache);

type Call =
  | { c: 'get' | 'peek' | 'has' | 'delete'; k: string }
  | { c: 'set'; k: string; v: number | 'obj'; stale: boolean };

const keys = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g');
const call: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ c: fc.constantFrom('get' as const, 'peek' as const, 'has' as const, 'delete' as const), k: keys }),
  fc.record({ c: fc.constant('set' as const), k: keys, v: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constant('obj' as const)), stale: fc.boolean() }),
);
const setup = fc.record({
  max: fc.integer({ min: 1, max: 6 }),
  allowStale: fc.boolean(),
  initial: fc.array(fc.record({ k: keys, v: fc.integer({ min: 0, max: 9 }), stale: fc.boolean() }), { maxLength: 8 }),
});

/** Values by identity, shared between the two runs so that answers compare with Object.is. */
const OBJ = { shared: true };
const valueOf = (v: number | 'obj') => (v === 'obj' ? OBJ : v);
const setOpts = (stale: boolean) => (stale ? { ttl: 5, start: performance.now() - 50 } : { ttl: 600_000 });

function build(s: fc.RecordValue<{ max: number; allowStale: boolean; initial: Array<{ k: string; v: number; stale: boolean }> }>): LRUCache<string, unknown> {
  // ttlResolution 0: lru-cache otherwise keeps one clock reading until its timer clears it, which a
  // synchronous loop of a thousand runs never lets happen (staleness would depend on elapsed time).
  const c = new LRUCache<string, unknown>({ max: s.max, allowStale: s.allowStale, ttl: 600_000, ttlResolution: 0 });
  for (const e of s.initial) c.set(e.k, e.v, setOpts(e.stale));
  return c;
}
const stateOf = (c: LRUCache<string, unknown>) => c.dump().map(([k, e]) => [k, e.value, e.ttl]);

function runOn(target: Record<string, (...a: unknown[]) => unknown>, calls: Call[]): unknown[] {
  return calls.map((x) => (x.c === 'set' ? (target.set(x.k, valueOf(x.v), setOpts(x.stale)), 'set') : target[x.c](x.k)));
}

/** Runs the calls locally and through the stand-in and the replay; checks what must hold either way. */
function trial(s: fc.RecordValue<{ max: number; allowStale: boolean; initial: Array<{ k: string; v: number; stale: boolean }> }>, calls: Call[]): 'committed' | 'conflict' {
  const local = build(s);
  const expected = runOn(local as unknown as Record<string, (...a: unknown[]) => unknown>, calls);
  const server = build(s);
  const before = stateOf(server);
  let ops: Op[] = [];
  const standIn = makeRemoteLru(1, {
    keyId: () => undefined,
    read: (_id, method, key) => {
      const k = (key as { key: unknown }).key;
      return { value: lruAnswer(server, method, k), gone: method === 'get' && lruGetRemoves(server, k) };
    },
    whole: () => {
      throw new Error('no whole fetch in this test');
    },
    track: (_id, d) => (ops = d.ops()),
    refuse: (r) => new Error(r),
    fail: (r) => new Error(r),
  }) as Record<string, (...a: unknown[]) => unknown>;
  const got = runOn(standIn, calls);
  // The stand-in read the server's cache but changed nothing in it.
  expect(stateOf(server)).toEqual(before);
  const changes: Change[] = ops.length ? [{ id: 1, ops }] : [];
  try {
    applyChanges(changes, () => server);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('BEEHIVE_ERR_CHANNEL_CONFLICT');
    expect(stateOf(server)).toEqual(before);
    return 'conflict';
  }
  expect(got).toEqual(expected);
  expect(stateOf(server)).toEqual(stateOf(local));
  return 'committed';
}

const reads = fc.record({ c: fc.constantFrom('get' as const, 'peek' as const, 'has' as const), k: fc.constantFrom('a', 'b', 'c') });
const staleSetup = fc.record({
  max: fc.integer({ min: 2, max: 6 }),
  allowStale: fc.boolean(),
  initial: fc.array(fc.record({ k: fc.constantFrom('a', 'b', 'c'), v: fc.integer({ min: 0, max: 9 }), stale: fc.boolean() }), { maxLength: 4 }),
});

describe('the call log of a large LRUCache replayed at the commit', () => {
  it('commits only what running the calls on the cache gives, and otherwise leaves the cache as it was', () => {
    let committed = 0;
    let conflicted = 0;
    fc.assert(
      fc.property(setup, fc.array(call, { maxLength: 10 }), (s, calls) => {
        if (trial(s, calls) === 'committed') committed++;
        else conflicted++;
      }),
      { numRuns: 1500, seed: Number(process.env.LRU_SEED ?? 20261201) },
    );
    // Both outcomes occur over the sample: the property tests each.
    expect(committed).toBeGreaterThan(100);
    expect(conflicted).toBeGreaterThan(10);
  });

  it('a handler that only reads (stale entries included) always commits, with the answers a local run gets', () => {
    fc.assert(
      fc.property(staleSetup, fc.array(reads, { minLength: 1, maxLength: 6 }), (s, calls) => {
        expect(trial(s, calls), JSON.stringify({ s, calls })).toBe('committed');
      }),
      { numRuns: 1500, seed: Number(process.env.LRU_SEED ?? 20261201) },
    );
  });

  it('a small cache copied by its public state: the changed copy applied at the commit is the local run', () => {
    fc.assert(
      fc.property(setup, fc.array(call, { maxLength: 10 }), (s, calls) => {
        const local = build(s);
        const expected = runOn(local as unknown as Record<string, (...a: unknown[]) => unknown>, calls);
        const server = build(s);
        // The read set's picture of the cache as shipped (start times on the monotonic clock).
        const shipped = fingerprint(server);
        // As the worker builds its copy: the options, then the server's dump loaded.
        const copy = new LRUCache<string, unknown>({ max: s.max, allowStale: s.allowStale, ttl: 600_000, ttlResolution: 0 });
        copy.load(copyLruDump(server.dump() as never) as never);
        const space = new ClosureSpace();
        space.register(copy, 1);
        space.settle();
        const got = runOn(copy as unknown as Record<string, (...a: unknown[]) => unknown>, calls);
        // Nobody else wrote the server's cache: its picture still holds, whatever the wall clock did.
        expect(samePrint(fingerprint(server), shipped)).toBe(true);
        applyChanges(space.diff(), () => server);
        expect(got).toEqual(expected);
        expect(stateOf(server)).toEqual(stateOf(local));
      }),
      { numRuns: 1000, seed: Number(process.env.LRU_SEED ?? 20261201) },
    );
  });
});
