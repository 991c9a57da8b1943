import { describe, expect, it } from 'vitest';
import { Contention, canBeHot, fingerprint, ReadSet, samePrint, conflictReason } from '../contention';

describe('fingerprint: a shallow picture of an object', () => {
  const changes: Array<[string, () => object, (o: any) => void]> = [
    ['a property set', () => ({ a: 1 }), (o) => (o.a = 2)],
    ['a property added', () => ({ a: 1 }), (o) => (o.b = 1)],
    ['a property deleted', () => ({ a: 1, b: 2 }), (o) => delete o.b],
    ['keys reordered', () => ({ a: 1, b: 2 }), (o) => { delete o.a; o.a = 1; }],
    ['a child replaced (identity)', () => ({ c: { x: 1 } }), (o) => (o.c = { x: 1 })],
    ['an array element', () => [1, 2, 3], (o) => (o[1] = 5)],
    ['an array length', () => [1, 2, 3], (o) => o.pop()],
    ['an array hole filled', () => [1, , 3], (o) => (o[1] = undefined)],
    ['a Map entry', () => new Map([[1, 'a']]), (o) => o.set(1, 'b')],
    ['a Map key added', () => new Map([[1, 'a']]), (o) => o.set(2, 'a')],
    ['a Set value', () => new Set([1]), (o) => o.add(2)],
    ['a Date', () => new Date(0), (o) => o.setTime(5)],
    ['small buffer bytes', () => Buffer.from('abc'), (o) => (o[0] = 0)],
    ['large buffer bytes', () => Buffer.alloc(4096), (o) => (o[4000] = 1)],
    ['an ArrayBuffer', () => new ArrayBuffer(8), (o) => (new Uint8Array(o)[3] = 9)],
    ['a URL', () => new URL('http://a/'), (o) => (o.pathname = '/b')],
    ['the prototype', () => ({}), (o) => Object.setPrototypeOf(o, null)],
    ['extensibility', () => ({ a: 1 }), (o) => Object.preventExtensions(o)],
    ['an attribute', () => ({ a: 1 }), (o) => Object.defineProperty(o, 'a', { writable: false })],
    ['a symbol key', () => ({}), (o) => (o[Symbol.for('k')] = 1)],
    ['an accessor', () => ({ get a() { return 1; } }), (o) => Object.defineProperty(o, 'a', { get: () => 2 })],
  ];
  it.each(changes)('sees %s', (_name, make, change) => {
    const o = make();
    const before = fingerprint(o);
    expect(samePrint(before, fingerprint(o))).toBe(true);
    change(o);
    expect(samePrint(before, fingerprint(o))).toBe(false);
  });

  it('does not see a change inside a child (the child has its own picture)', () => {
    const o = { c: { x: 1 } };
    const before = fingerprint(o);
    o.c.x = 2;
    expect(samePrint(before, fingerprint(o))).toBe(true);
  });
});

describe('ReadSet', () => {
  it('refuses with a read conflict naming the first changed object, and checks reassigned bindings', () => {
    const a = { n: 1 };
    const b = [1];
    const rs = new ReadSet();
    rs.note(a);
    rs.note(b);
    expect(() => rs.validate(() => 'x')).not.toThrow();
    b.push(2);
    let err: unknown;
    try {
      rs.validate((o) => (o === b ? 'the array' : 'other'));
    } catch (e) {
      err = e;
    }
    expect(conflictReason(err)).toBe('read');
    expect((err as { object?: object }).object).toBe(b);
    expect(String((err as Error).message)).toMatch(/the array, which the invocation read/);
    const rs2 = new ReadSet();
    let moved = false;
    rs2.noteCheck(() => (moved ? "the variable 'mode'" : undefined));
    expect(() => rs2.validate(() => '')).not.toThrow();
    moved = true;
    expect(() => rs2.validate(() => '')).toThrow(/'mode', which the invocation read, was reassigned/);
  });
});

describe('ReadSet: keys read of a hot object', () => {
  it('checks only the reported keys of an object noted keyed, and the whole of the others', () => {
    const hot = { a: 1, b: 1 };
    const cold = { a: 1, b: 1 };
    const rs = new ReadSet();
    rs.noteKeyed(hot);
    rs.note(cold);
    hot.b = 2;
    expect(rs.changed(new Map([[hot, new Set(['a'])]]))).toBeUndefined();
    expect(rs.changed(new Map([[hot, new Set(['a', 'b'])]]))).toBe(hot);
    expect(rs.changed(new Map([[hot, true]]))).toBe(hot);
    expect(rs.changed()).toBe(hot);
    hot.b = 1;
    cold.b = 2;
    // A report cannot narrow what is checked of an object shipped inline.
    expect(rs.changed(new Map([[cold, new Set(['a'])]]))).toBe(cold);
    cold.b = 1;
    // A key read absent must still be absent; the prototype is its own key.
    rs.noteKeyed(hot);
    (hot as Record<string, number>).c = 1;
    expect(rs.changed(new Map([[hot, new Set(['c'])]]))).toBe(hot);
    delete (hot as Record<string, number>).c;
    Object.setPrototypeOf(hot, null);
    expect(rs.changed(new Map([[hot, new Set(['\0proto'])]]))).toBe(hot);
  });
});

describe('Contention: temperature', () => {
  it('an object heats on a conflict and cools with a half-life', () => {
    let t = 0;
    const c = new Contention({ halfLifeMs: 1000, hotAt: 0.5, now: () => t });
    const o = {};
    expect(c.isHot(o)).toBe(false);
    c.warm(o);
    expect(c.isHot(o)).toBe(true);
    t = 999;
    expect(c.isHot(o)).toBe(true);
    t = 1001;
    expect(c.isHot(o)).toBe(false);
    c.warm(o);
    c.warm(o);
    t = 2500;
    expect(c.isHot(o)).toBe(true);
    expect(c.heated).toBe(1);
  });

  it('remembers which handlers write an object', () => {
    const c = new Contention();
    const o = {};
    c.noteWrites('GET /a', [o]);
    expect(c.writes('GET /a', o)).toBe(true);
    expect(c.writes('GET /b', o)).toBe(false);
  });

  it('only objects a remote reference stands for faithfully can be hot', () => {
    expect([{}, [], new Map(), new Set(), new (class A {})()].map(canBeHot)).toEqual([true, true, true, true, true]);
    expect([new Date(), Buffer.alloc(1), new ArrayBuffer(1), /x/, new URL('http://a'), new WeakMap(), Promise.resolve(), new Error('x')].map(canBeHot)).toEqual(
      Array(8).fill(false),
    );
    const c = new Contention();
    const d = new Date();
    c.warm(d);
    expect(c.isHot(d)).toBe(false);
  });

  it('validates its options', () => {
    expect(() => new Contention({ halfLifeMs: 0 })).toThrow(/halfLifeMs/);
    expect(() => new Contention({ hotAt: -1 })).toThrow(/hotAt/);
  });
});
