import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeRemoteRef, remoteInfo } from '../remote-ref';

// The range-reading stand-in of a large array against the array itself: every read a handler can
// make gives what the array gives, with ranges fetched instead of the whole, and each key it read
// reported. The source answers as the server's FetchRange does (agent/channel/server.ts): a range of
// elements with holes kept, the length, the vouched names on request.
const NAMES = [...new Set([...Object.getOwnPropertyNames(Array.prototype), ...Object.getOwnPropertyNames(Object.prototype), 'toJSON'])].filter((k) => k !== 'length');

function over(real: unknown[]) {
  const calls = { ranges: 0, whole: 0, elements: 0 };
  const proxy = makeRemoteRef(3, 'array', {
    fetch: () => {
      calls.whole++;
      return real;
    },
    fetchRange: (_id, start, count, names) => {
      calls.ranges++;
      const end = Math.min(real.length, start + Math.min(count, 4096));
      const items: unknown[] = new Array(Math.max(0, end - start));
      for (let i = start; i < end; i++) if (i in real) items[i - start] = real[i];
      calls.elements += items.length;
      return { length: real.length, start, items, names: names ? NAMES : undefined };
    },
  }) as unknown[];
  return { proxy, calls, reads: () => remoteInfo(proxy)!.reads };
}

const sparseArray = fc
  .tuple(fc.integer({ min: 0, max: 3000 }), fc.array(fc.tuple(fc.nat(3000), fc.oneof(fc.integer(), fc.string(), fc.constant(null))), { maxLength: 200 }))
  .map(([len, entries]) => {
    const a: unknown[] = new Array(len);
    for (const [i, v] of entries) if (i < len) a[i] = v;
    return a;
  });
const denseArray = fc.array(fc.oneof(fc.integer(), fc.record({ n: fc.integer() })), { maxLength: 3000 });

type Op = (a: unknown[]) => unknown;
const ops: Array<[string, (n: number) => Op]> = [
  ['index', (n) => (a) => a[n]],
  ['in', (n) => (a) => n in a],
  ['own', (n) => (a) => Object.prototype.hasOwnProperty.call(a, n)],
  ['length', () => (a) => a.length],
  ['slice', (n) => (a) => a.slice(n, n + 50)],
  ['json', () => (a) => JSON.stringify(a)],
  ['includes', (n) => (a) => a.includes(n)],
  ['indexOf', (n) => (a) => a.indexOf(n)],
  ['forOf', () => (a) => [...a].length],
  ['at', (n) => (a) => a.at(-1 - (n % 5))],
  ['isArray', () => (a) => Array.isArray(a)],
  ['proto', () => (a) => Object.getPrototypeOf(a) === Array.prototype],
  ['descriptor', (n) => (a) => JSON.stringify(Object.getOwnPropertyDescriptor(a, n) ?? null)],
];
const opArb = fc.tuple(fc.integer({ min: 0, max: ops.length - 1 }), fc.nat(3100)).map(([i, n]) => ({ name: ops[i][0], run: ops[i][1](n) }));

describe('a large array read in ranges on the worker', () => {
  it('answers every read as the array itself does (property)', () => {
    fc.assert(
      fc.property(fc.oneof(sparseArray, denseArray), fc.array(opArb, { minLength: 1, maxLength: 12 }), (real, seq) => {
        const { proxy, calls } = over(real);
        for (const op of seq) expect(op.run(proxy), op.name).toEqual(op.run(real));
        // Only ranges: nothing here needs the whole array.
        expect(calls.whole).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('reads one element with one small range, and reports that key', () => {
    const real = Array.from({ length: 200_000 }, (_, i) => ({ i }));
    const { proxy, calls, reads } = over(real);
    expect(proxy[123_456]).toEqual({ i: 123_456 });
    expect(calls).toMatchObject({ ranges: 1, whole: 0 });
    expect(calls.elements).toBeLessThanOrEqual(64);
    expect([...(reads() as Set<string>)]).toEqual(['123456']);
  });

  it('scans with ranges that grow, and a write fetches the whole array (the copy the diff needs)', () => {
    const real = Array.from({ length: 20_000 }, (_, i) => i);
    const { proxy, calls } = over(real);
    expect(proxy.reduce((s: number, v) => s + (v as number), 0)).toBe((19_999 * 20_000) / 2);
    expect(calls.ranges).toBeLessThan(20);
    expect(calls.whole).toBe(0);
    proxy.push(1);
    expect(calls.whole).toBe(1);
    expect(real.length).toBe(20_001);
    expect(proxy.length).toBe(20_001);
  });

  it('a key the server did not vouch for (an own property it may have) fetches the whole array', () => {
    const real = Object.assign(Array.from({ length: 10 }, (_, i) => i), { meta: 'x' });
    const { proxy, calls } = over(real);
    expect(proxy[2]).toBe(2);
    expect(calls.whole).toBe(0);
    expect((proxy as unknown as { meta: string }).meta).toBe('x');
    expect(calls.whole).toBe(1);
    // Read after the whole came: from it, the elements already here kept.
    expect(proxy[2]).toBe(2);
  });
});
