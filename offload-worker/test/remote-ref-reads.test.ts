import { describe, expect, it } from 'vitest';
import { makeRemoteRef, PROTO, remoteInfo } from '../remote-ref';

/** A stand-in over `real` and what its traps say the handler read. */
function over<T extends object>(real: T, kind: 'object' | 'array' | 'map' | 'instance' = 'object') {
  let fetches = 0;
  const proxy = makeRemoteRef(7, kind, {
    fetch: () => {
      fetches++;
      return real;
    },
  }) as T;
  const reads = () => {
    const r = remoteInfo(proxy)!.reads;
    return r === true ? true : [...(r ?? [])].sort();
  };
  return { proxy, reads, fetches: () => fetches };
}

describe('remote references report what the handler read', () => {
  it('own data keys read, written, tested, deleted', () => {
    const { proxy, reads, fetches } = over<Record<string, number>>({ a: 1, b: 2, c: 3 });
    expect(proxy.a).toBe(1);
    proxy.b = 5;
    expect('c' in proxy).toBe(true);
    delete proxy.c;
    expect(reads()).toEqual(['a', 'b', 'c']);
    expect(fetches()).toBe(1);
  });

  it('a missing key is read with the prototype (its absence depends on both)', () => {
    const { proxy, reads } = over<Record<string, unknown>>({ a: 1 });
    expect(proxy.nope).toBeUndefined();
    expect(reads()).toEqual([PROTO, 'nope']);
  });

  it('the key list, an accessor (own or inherited), a Map method or a symbol read all of it', () => {
    const keys = over<Record<string, number>>({ a: 1, b: 2 });
    expect(Object.keys(keys.proxy)).toEqual(['a', 'b']);
    expect(keys.reads()).toBe(true);
    const acc = over({ get total() { return 3; } });
    expect(acc.proxy.total).toBe(3);
    expect(acc.reads()).toBe(true);
    class Box { n = 1; get twice() { return this.n * 2; } }
    const inherited = over(new Box(), 'instance');
    expect(inherited.proxy.twice).toBe(2);
    expect(inherited.reads()).toBe(true);
    const map = over(new Map([[1, 'x']]), 'map');
    expect(map.proxy.get(1)).toBe('x');
    expect(map.reads()).toBe(true);
    const sym = over<Record<symbol, number>>({ [Symbol.for('k')]: 1 });
    expect(sym.proxy[Symbol.for('k')]).toBe(1);
    expect(sym.reads()).toBe(true);
  });

  it('an array: the indices and length a method touched', () => {
    const { proxy, reads } = over([1, 2, 3], 'array');
    expect(proxy[1]).toBe(2);
    expect(proxy.length).toBe(3);
    expect(reads()).toEqual(['1', 'length']);
  });

  it('a method found on the prototype: its key and the prototype', () => {
    class Counter { n = 0; bump() { this.n++; } }
    const { proxy, reads } = over(new Counter(), 'instance');
    proxy.bump();
    expect(reads()).toEqual([PROTO, 'bump', 'n']);
  });
});
