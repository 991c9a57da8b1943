import { describe, expect, it } from 'vitest';
import { ClosureSpace } from '../closure-space';

/** The ops of `obj` after `change`, against a snapshot taken before it. */
function opsAfter<T extends object>(obj: T, change: (o: T) => void): unknown[] {
  const space = new ClosureSpace();
  space.register(obj, 1);
  space.settle();
  change(obj);
  const d = space.diff();
  return d.length ? d[0].ops : [];
}

describe('the commit-point diff: unchanged objects cost no ops, every change is found', () => {
  it('nothing changed, or a value set to the same value: no ops', () => {
    expect(opsAfter({ a: 1, b: 'x' }, () => {})).toEqual([]);
    expect(opsAfter({ a: 1, b: 'x' }, (o) => (o.a = 1))).toEqual([]);
    expect(opsAfter([1, 2, 3], () => {})).toEqual([]);
    expect(opsAfter({ nan: NaN }, (o) => (o.nan = NaN))).toEqual([]);
  });

  it('a value changed, a key added, a key deleted', () => {
    expect(opsAfter<Record<string, number>>({ a: 1, b: 2 }, (o) => (o.b = 3))).toEqual([['set', 'b', 3, 2, true]]);
    expect(opsAfter<Record<string, number>>({ a: 1 }, (o) => (o.c = 3))).toEqual([['set', 'c', 3, undefined, false]]);
    expect(opsAfter<Record<string, number>>({ a: 1, b: 2 }, (o) => delete o.a)).toEqual([['del', 'a', 1]]);
    expect(opsAfter({ z: 0 }, (o) => (o.z = -0))).toEqual([['set', 'z', -0, 0, true]]);
  });

  it('the same keys and values in another order: from the first moved key on, each is re-appended', () => {
    const ops = opsAfter<Record<string, number>>({ a: 1, b: 2 }, (o) => {
      delete o.a;
      o.a = 1;
    });
    expect(ops).toEqual([
      ['del', 'b', 2],
      ['set', 'b', 2, 2, true],
      ['del', 'a', 1],
      ['set', 'a', 1, 1, true],
    ]);
  });

  it('a data property turned into an accessor is a deletion of the data', () => {
    const ops = opsAfter<Record<string, unknown>>({ a: 1, b: 2 }, (o) => Object.defineProperty(o, 'a', { get: () => 1, enumerable: true, configurable: true }));
    expect(ops).toEqual([['del', 'a', 1]]);
  });

  it('an array grown, shrunk or written at an index', () => {
    expect(opsAfter([1, 2], (a) => a.push(3))).toEqual([['set', '2', 3, undefined, false], ['len', 3, 2]]);
    expect(opsAfter([1, 2, 3], (a) => (a.length = 1))).toEqual([['len', 1, 3], ['del', '1', 2], ['del', '2', 3]]);
    expect(opsAfter([1, 2], (a) => (a[0] = 9))).toEqual([['set', '0', 9, 1, true]]);
  });

  it('a symbol key and a function property are tracked like the others', () => {
    const s = Symbol.for('k');
    expect(opsAfter<Record<symbol, number>>({ [s]: 1 }, (o) => (o[s] = 2))).toEqual([['set', s, 2, 1, true]]);
    const fn = Object.assign(function f() {}, { hits: 0 });
    expect(opsAfter(fn, (f) => f.hits++)).toEqual([['set', 'hits', 1, 0, true]]);
  });

  it('after a resnapshot only later changes count', () => {
    const space = new ClosureSpace();
    const o: Record<string, number> = { a: 1 };
    space.register(o, 1);
    space.settle();
    o.a = 2;
    space.resnapshot();
    expect(space.diff()).toEqual([]);
    o.a = 3;
    expect(space.diff()).toEqual([{ id: 1, ops: [['set', 'a', 3, 2, true]] }]);
  });
});
