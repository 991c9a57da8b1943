import { describe, expect, it } from 'vitest';
import { decode, encode, CodecErrors, CODEC_VERSION, type DecodeHooks, type EncodeHooks } from '../index';

const roundTrip = (v: unknown, eh?: EncodeHooks, dh?: DecodeHooks) => decode(encode(v, eh).bytes, dh);

describe('closure codec: value kinds', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['booleans', [true, false]],
    ['integers', [0, 1, -1, 2 ** 53 - 1, -(2 ** 53 - 1)]],
    ['strings', ['', 'héllo ✓ 🐝', 'x'.repeat(10000)]],
    ['bigint', [0n, 123n, -(2n ** 100n)]],
    ['date', new Date(1700000000123)],
    ['regexp', /a+b/giu],
    ['map', new Map<unknown, unknown>([[1, 'a'], ['k', { x: 1 }], [{ o: 1 }, [1]]])],
    ['set', new Set([1, 'two', { three: 3 }])],
    ['url', new URL('https://user@example.com:8080/p?q=1#h')],
    ['urlsearchparams', new URLSearchParams('a=1&b=2&a=3')],
    ['nested', { a: { b: { c: [1, 2, { d: 'e' }] } } }],
  ])('%s', (_name, v) => {
    expect(roundTrip(v)).toEqual(v);
  });

  it('keeps views sharing a buffer and a URL with its searchParams linked, with a budget or without one', () => {
    const buf = new ArrayBuffer(16);
    const a = new Uint8Array(buf, 0, 8);
    const b = new Uint8Array(buf, 4, 8);
    const slice = Buffer.from(buf, 2, 4);
    const url = new URL('https://x.test/?q=1');
    for (const hooks of [{}, { budget: 1 << 20, overBudget: () => ({ ref: 1, kind: 'object' as const }) }]) {
      const out = roundTrip({ a, b, slice, url, params: url.searchParams }, hooks) as { a: Uint8Array; b: Uint8Array; slice: Buffer; url: URL; params: URLSearchParams };
      expect(out.a.buffer).toBe(out.b.buffer);
      expect(out.slice.buffer).toBe(out.a.buffer);
      out.a[5] = 42; // seen through the overlapping view and the slice
      expect(out.b[1]).toBe(42);
      expect(out.slice[3]).toBe(42);
      out.params.set('q', '2');
      expect(out.url.search).toBe('?q=2');
    }
  });

  it('keeps NaN, ±Infinity and -0', () => {
    const out = roundTrip([NaN, Infinity, -Infinity, -0, 0.1]) as number[];
    expect(Number.isNaN(out[0])).toBe(true);
    expect(out[1]).toBe(Infinity);
    expect(out[2]).toBe(-Infinity);
    expect(Object.is(out[3], -0)).toBe(true);
    expect(out[4]).toBe(0.1);
  });

  it('keeps sparse arrays and extra array properties', () => {
    const a: unknown[] = [1, , 3]; // eslint-disable-line no-sparse-arrays
    a[10] = 'x';
    (a as unknown as { extra: number }).extra = 5;
    const out = roundTrip(a) as unknown[];
    expect(out.length).toBe(11);
    expect(1 in out).toBe(false);
    expect(out[10]).toBe('x');
    expect((out as unknown as { extra: number }).extra).toBe(5);
  });

  it('keeps strings either side of the short-ASCII path, and array elements with their own attributes', () => {
    // Short ASCII strings (< 64 characters) are written byte by byte; a non-ASCII character, at any
    // place, or a longer string takes the general path.
    const strings = ['', 'a', 'x'.repeat(63), 'y'.repeat(64), 'x'.repeat(62) + 'é', 'é', '\u007f\u0000', '日本語', 'a😀b', 'z'.repeat(200)];
    expect(roundTrip(strings)).toEqual(strings);
    expect(roundTrip({ [strings[2]]: 1, [strings[4]]: 2, ключ: 3 })).toEqual({ [strings[2]]: 1, [strings[4]]: 2, ключ: 3 });
    // A dense array whose element is not a plain data property keeps the attribute.
    const ro = [1, 2, 3];
    Object.defineProperty(ro, 1, { value: 2, writable: false, enumerable: true, configurable: true });
    const out = roundTrip(ro) as number[];
    expect(out).toEqual([1, 2, 3]);
    expect(Object.getOwnPropertyDescriptor(out, 1)?.writable).toBe(false);
    const hidden = [1, 2];
    Object.defineProperty(hidden, 0, { value: 1, enumerable: false, writable: true, configurable: true });
    expect(Object.getOwnPropertyDescriptor(roundTrip(hidden) as object, 0)?.enumerable).toBe(false);
  });

  it('carries binary data as bytes, not base64', () => {
    const buf = Buffer.from([1, 2, 3, 255]);
    const f64 = new Float64Array([1.5, -2]);
    const big = new BigInt64Array([1n, -1n]);
    const ab = new Uint8Array([9, 8]).buffer;
    const out = roundTrip({ buf, f64, big, ab, dv: new DataView(new Uint8Array([7]).buffer) }) as Record<string, unknown>;
    expect(Buffer.isBuffer(out.buf)).toBe(true);
    expect([...(out.buf as Buffer)]).toEqual([1, 2, 3, 255]);
    expect(out.f64).toEqual(f64);
    expect(out.big).toEqual(big);
    expect(new Uint8Array(out.ab as ArrayBuffer)).toEqual(new Uint8Array([9, 8]));
    expect((out.dv as DataView).getUint8(0)).toBe(7);
    const bytes = encode(Buffer.alloc(3000, 0x41)).bytes;
    expect(bytes.length).toBeLessThan(3100);
  });

  it('keeps errors with kind, message, stack and own properties', () => {
    const e = Object.assign(new TypeError('bad thing'), { status: 418 });
    const out = roundTrip(e) as TypeError & { status: number };
    expect(out).toBeInstanceOf(TypeError);
    expect(out.message).toBe('bad thing');
    expect(out.stack).toBe(e.stack);
    expect(out.status).toBe(418);
  });

  it('keeps registered symbols as values and keys', () => {
    const s = Symbol.for('beehive.test');
    const out = roundTrip({ [s]: s, v: s }) as Record<string | symbol, unknown>;
    expect(out[s]).toBe(s);
    expect(out.v).toBe(s);
  });

  it('refuses unregistered symbols with a coded error', () => {
    expect(() => encode({ s: Symbol('x') })).toThrow(expect.objectContaining({ code: CodecErrors.UNSUPPORTED.code }));
  });

  it('keeps cycles and shared references with identity', () => {
    const shared = { n: 1 };
    const root: Record<string, unknown> = { a: shared, b: shared, list: [shared] };
    root.self = root;
    const m = new Map<string, unknown>([['root', root]]);
    root.m = m;
    const out = roundTrip(root) as typeof root;
    expect(out.self).toBe(out);
    expect(out.a).toBe(out.b);
    expect((out.list as unknown[])[0]).toBe(out.a);
    expect((out.m as Map<string, unknown>).get('root')).toBe(out);
  });

  it('keeps accessors, non-enumerable properties, null prototypes and frozen objects', () => {
    const o = Object.create(null);
    o.x = 1;
    Object.defineProperty(o, 'hidden', { value: 2, enumerable: false });
    const frozen = Object.freeze({ f: 1 });
    const out = roundTrip({ o, frozen }) as { o: Record<string, number>; frozen: object };
    expect(Object.getPrototypeOf(out.o)).toBe(null);
    expect(out.o.hidden).toBe(2);
    expect(Object.keys(out.o)).toEqual(['x']);
    expect(Object.isFrozen(out.frozen)).toBe(true);
  });

  it('carries class instances through hooks, with prototypes restored and statics holding instances', () => {
    class Point {
      static all: Point[] = [];
      constructor(public x: number, public y: number) {}
      norm() {
        return Math.hypot(this.x, this.y);
      }
    }
    const p = new Point(3, 4);
    Point.all.push(p);
    // A toy function codec: the class travels by name and is found again in a table.
    const table: Record<string, Function> = { Point };
    const out = roundTrip(
      { p },
      { replace: (v) => (typeof v === 'function' ? { fn: { header: v.name, data: null } } : undefined) },
      { createFunction: (h) => table[h] },
    ) as { p: Point };
    expect(out.p).toBeInstanceOf(Point);
    expect(out.p.norm()).toBe(5);
    expect(Point.all[Point.all.length - 1]).toBe(out.p);
  });

  it('turns objects beyond the budget into remote references, nearest the root first', () => {
    const big = { data: 'x'.repeat(5000) };
    const near = { small: 1 };
    const ids = new Map<object, number>();
    const root = { deep: { deeper: { deepest: big } }, near };
    const res = encode(root, {
      budget: 200,
      overBudget: (o, kind) => {
        if (!ids.has(o)) ids.set(o, ids.size + 1);
        return { ref: ids.get(o)!, kind };
      },
    });
    expect(res.refs).toBeGreaterThan(0);
    const refs: Array<[number, string]> = [];
    const out = decode(res.bytes, { ref: (r, k) => (refs.push([r, k]), { ref: r }) }) as typeof root;
    expect(out.near).toEqual({ small: 1 });
    expect(refs.length).toBe(1);
    expect(ids.has(big)).toBe(true);
  });

  it('encodes unplanned first only what fits: the same stream as planned, and the plan for the rest', () => {
    const refOf = () => {
      const ids = new Map<object, number>();
      return (o: object, kind: 'object' | 'array' | 'map' | 'set' | 'function' | 'instance') => {
        if (!ids.has(o)) ids.set(o, ids.size + 1);
        return { ref: ids.get(o)!, kind };
      };
    };
    const buf = new ArrayBuffer(16);
    let list: { next?: unknown; i: number } = { i: 0 };
    for (let i = 1; i < 1500; i++) list = { next: list, i };
    const graphs: Array<[string, unknown, boolean]> = [
      ['small', { a: [1, 'two', { three: new Map([[3, new Set([4])]]) }], d: new Date(5), r: /x/g }, false],
      ['views sharing a buffer', { a: new Uint8Array(buf, 0, 8), b: new Uint8Array(buf, 4, 8), u: new URL('https://x.test/?q=1') }, false],
      ['past the budget', { deep: { deeper: { deepest: { data: 'x'.repeat(5000) } } }, near: { small: 1 } }, true],
      ['deeper than a plan goes', { list }, true],
      // The plan leaves `deeper` outside: what it holds is never refused.
      ['refused beyond the budget', { near: { a: 1 }, far: { deep: { deeper: { pad: 'x'.repeat(3000), bad: Symbol('unregistered') } } } }, true],
    ];
    for (const [name, v, over] of graphs) {
      let asked = new Map<object, number>();
      const replace = (o: object) => {
        asked.set(o, (asked.get(o) ?? 0) + 1);
        return undefined;
      };
      const planned = encode(v, { budget: 1000, overBudget: refOf(), replace });
      if (name.startsWith('refused')) expect(planned.refs).toBeGreaterThan(0);
      const plannedAsks = asked.size;
      asked = new Map();
      const first = encode(v, { budget: 1000, overBudget: refOf(), replace, unplannedFirst: true });
      expect(Buffer.compare(first.bytes, planned.bytes), name).toBe(0);
      expect(first.replanned === true, name).toBe(over);
      expect(first.refs, name).toBe(planned.refs);
      // One hook decision per object, whichever pass made it; a stream that fits asks of the same objects.
      expect(Math.max(...asked.values()), name).toBe(1);
      if (!over) expect(asked.size, name).toBe(plannedAsks);
    }
  });

  it('leaves to a planned stream what a hook will only answer planned (a pack)', () => {
    const client = { kind: 'pg client' };
    const asked: boolean[] = [];
    const replace = (o: object, unplanned?: boolean) => {
      if (o !== client) return undefined;
      asked.push(!!unplanned);
      if (unplanned) throw new RangeError('plan first');
      return { custom: 'pack', data: { unpacker: 'pg' } };
    };
    const v = { handler: { db: client }, n: 1 };
    const first = encode(v, { budget: 1 << 20, overBudget: () => ({ ref: 1, kind: 'object' }), replace, unplannedFirst: true });
    const planned = encode(v, { budget: 1 << 20, overBudget: () => ({ ref: 1, kind: 'object' }), replace: (o) => replace(o, false) });
    expect(Buffer.compare(first.bytes, planned.bytes)).toBe(0);
    expect(first.replanned).toBe(true);
    expect(asked).toEqual([true, false, false]);
  });

  it('names the refusal a planned stream meets, with or without an unplanned first pass', () => {
    // The plan leaves `c` outside (past the budget): the planned stream meets only the second branch's symbol.
    const v = { a: { b: { c: { big: 'x'.repeat(3000), d: Symbol('deep') } } }, e: { f: Symbol('near') } };
    const message = (hooks: EncodeHooks) => {
      try {
        encode(v, hooks);
      } catch (err) {
        return (err as Error).message;
      }
      return 'no refusal';
    };
    const planned = message({ budget: 1000, overBudget: () => ({ ref: 1, kind: 'object' }) });
    expect(planned).toMatch(/near/);
    expect(message({ budget: 1000, overBudget: () => ({ ref: 1, kind: 'object' }), unplannedFirst: true })).toBe(planned);
  });

  it('carries identities for every object and reports them on decode', () => {
    const a = { a: 1 };
    const b = [a];
    const seen = new Map<number, object>();
    const out = decode(encode({ a, b }, { idOf: (o) => (o === a ? 7 : o === b ? 8 : undefined) }).bytes, {
      onObject: (o, id) => seen.set(id, o),
    }) as { a: object; b: object };
    expect(seen.get(7)).toBe(out.a);
    expect(seen.get(8)).toBe(out.b);
  });
});

describe('closure codec: hostile input', () => {
  const sample = encode({ a: [1, 'two', new Map([[1, { x: new Date(0) }]])], b: Buffer.from('hi'), c: /x/g, d: 10n }).bytes;

  it('refuses every truncation with a coded error, never a crash', () => {
    for (let i = 0; i < sample.length; i++) {
      expect(() => decode(sample.subarray(0, i))).toThrow(expect.objectContaining({ code: expect.stringMatching(/^BEEHIVE_ERR_CODEC_/) }));
    }
  });

  it('refuses random bytes and single-byte corruptions with coded errors', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let n = 0; n < 3000; n++) {
      const bytes = Buffer.from(sample);
      bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      try {
        decode(bytes);
      } catch (err) {
        expect((err as { code?: string }).code ?? String(err)).toMatch(/^BEEHIVE_ERR_CODEC_/);
      }
    }
    for (let n = 0; n < 1000; n++) {
      const bytes = Buffer.alloc(2 + Math.floor(rand() * 64));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
      if (n % 2 === 0) bytes.set([0xbe, CODEC_VERSION]);
      try {
        decode(bytes);
      } catch (err) {
        expect((err as { code?: string }).code ?? String(err)).toMatch(/^BEEHIVE_ERR_CODEC_/);
      }
    }
  });

  it('refuses hostile lengths before allocating', () => {
    const bytes = Buffer.from([0xbe, CODEC_VERSION, 0x06, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(() => decode(bytes)).toThrow(expect.objectContaining({ code: CodecErrors.TRUNCATED.code }));
  });

  it('refuses nesting past the limit', () => {
    let v: unknown = 1;
    for (let i = 0; i < 50; i++) v = [v];
    expect(() => decode(encode(v).bytes, { maxDepth: 20 })).toThrow(expect.objectContaining({ code: CodecErrors.TOO_DEEP.code }));
  });

  it('refuses a wrong version and trailing bytes', () => {
    expect(() => decode(Buffer.from([0xbe, 9, 0]))).toThrow(expect.objectContaining({ code: CodecErrors.VERSION.code }));
    expect(() => decode(Buffer.from([0xbe, CODEC_VERSION, 0, 0]))).toThrow(expect.objectContaining({ code: CodecErrors.MALFORMED.code }));
  });

  it('refuses references when no resolver is given', () => {
    const bytes = encode({ x: 1 }, { replace: (o) => ('x' in o ? { ref: 5, kind: 'object' } : undefined) }).bytes;
    expect(() => decode(bytes)).toThrow(expect.objectContaining({ code: CodecErrors.BAD_REF.code }));
  });
});

/**
 * Fixed byte vectors, as pg-protocol's tests build theirs: each expected stream is assembled by
 * this small builder, written from the format (a magic byte and the version, then one tag byte per
 * value; varints are unsigned LEB128, integers zigzagged; strings are a varint length and UTF-8),
 * with the tag numbers spelled out here rather than taken from the codec. A change to the wire
 * format fails these even when encode and decode change together.
 */
describe('closure codec: fixed byte vectors', () => {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    while (n >= 128) {
      out.push((n % 128) + 128);
      n = Math.floor(n / 128);
    }
    return [...out, n];
  };
  const zigzag = (n: number) => leb(n >= 0 ? 2 * n : -2 * n - 1);
  const utf8 = (s: string) => [...leb(Buffer.byteLength(s)), ...Buffer.from(s, 'utf8')];
  const f64 = (x: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(x);
    return [...b];
  };
  const stream = (...bytes: number[]) => Buffer.from([0xbe, 0x02, ...bytes]);
  // Tags (one byte before every value).
  const UNDEFINED = 0x00, NULL = 0x01, TRUE = 0x02, FALSE = 0x03, INT = 0x04, FLOAT = 0x05, STRING = 0x06, BIGINT = 0x07;
  const BACKREF = 0x08, SYMBOL = 0x09, OBJECT = 0x10, ARRAY = 0x11, DATE = 0x12, REGEXP = 0x13, MAP = 0x14, SET = 0x15, WELL_KNOWN = 0x22;
  /** An object's id (none without hooks), its prototype (0: Object.prototype, 1: null), its properties, its integrity (0 none, 3 frozen). */
  const object = (proto: 0 | 1, props: Array<[string, number[]]>, integrity = 0) => [
    OBJECT, 0, proto, ...leb(props.length), ...props.flatMap(([k, v]) => [0, ...utf8(k), ...v]), integrity,
  ];
  /** A dense array: id, length, 0 (dense), its elements, no other properties, no integrity level. */
  const array = (items: number[][]) => [ARRAY, 0, ...leb(items.length), 0, ...items.flat(), 0, 0];

  const cases: Array<[string, unknown, Buffer]> = [
    ['undefined', undefined, stream(UNDEFINED)],
    ['null', null, stream(NULL)],
    ['true', true, stream(TRUE)],
    ['false', false, stream(FALSE)],
    ['0', 0, stream(INT, 0x00)],
    ['1 (zigzag 2)', 1, stream(INT, 0x02)],
    ['-1 (zigzag 1)', -1, stream(INT, 0x01)],
    ['64 (zigzag 128: two varint bytes)', 64, stream(INT, 0x80, 0x01)],
    ['300 (zigzag 600)', 300, stream(INT, 0xd8, 0x04)],
    ['-300 (zigzag 599)', -300, stream(INT, 0xd7, 0x04)],
    ['2 ** 48 - 1, the largest varint integer', 2 ** 48 - 1, stream(INT, ...zigzag(2 ** 48 - 1))],
    ['2 ** 48, a float64', 2 ** 48, stream(FLOAT, 0, 0, 0, 0, 0, 0, 0xf0, 0x42)],
    ['0.5', 0.5, stream(FLOAT, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f)],
    ['-0', -0, stream(FLOAT, 0, 0, 0, 0, 0, 0, 0, 0x80)],
    ['the empty string', '', stream(STRING, 0x00)],
    ["'hé' (UTF-8, 3 bytes)", 'hé', stream(STRING, 0x03, 0x68, 0xc3, 0xa9)],
    ['255n (hex)', 255n, stream(BIGINT, 0x02, 0x66, 0x66)],
    ['-1n', -1n, stream(BIGINT, 0x02, 0x2d, 0x31)],
    ["Symbol.for('k')", Symbol.for('k'), stream(SYMBOL, 0x01, 0x6b)],
    ['Symbol.iterator', Symbol.iterator, stream(WELL_KNOWN, ...utf8('iterator'))],
    ['{}', {}, stream(...object(0, []))],
    ['{ a: 1, b: "x" }', { a: 1, b: 'x' }, stream(...object(0, [['a', [INT, 0x02]], ['b', [STRING, ...utf8('x')]]]))],
    ['Object.create(null)', Object.create(null), stream(...object(1, []))],
    ['a frozen {}', Object.freeze({}), stream(...object(0, [], 3))],
    ['[1, "x", null]', [1, 'x', null], stream(...array([[INT, 0x02], [STRING, ...utf8('x')], [NULL]]))],
    ['new Date(0)', new Date(0), stream(DATE, 0, ...f64(0))],
    ['/a/g', /a/g, stream(REGEXP, 0, ...utf8('a'), ...utf8('g'), 0)],
    ['new Map([[1, 2]])', new Map([[1, 2]]), stream(MAP, 0, 0x01, INT, 0x02, INT, 0x04)],
    ['new Set([true])', new Set([true]), stream(SET, 0, 0x01, TRUE)],
  ];

  it.each(cases)('%s', (_name, value, bytes) => {
    expect(encode(value).bytes.equals(bytes), `encode gives ${encode(value).bytes.toString('hex')}, want ${bytes.toString('hex')}`).toBe(true);
    const back = decode(bytes);
    if (typeof value === 'number' && Object.is(value, -0)) expect(Object.is(back, -0)).toBe(true);
    else expect(back).toEqual(value);
  });

  it('a shared object: once, then a back reference to its index in the stream (the array is 0, the object 1)', () => {
    const o = {};
    const bytes = stream(ARRAY, 0, 0x02, 0, ...object(0, []), BACKREF, 0x01, 0, 0);
    expect(encode([o, o]).bytes.toString('hex')).toBe(bytes.toString('hex'));
    const back = decode(bytes) as object[];
    expect(back[0]).toBe(back[1]);
  });

  it('a cycle: the back reference points at the object being decoded', () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    const bytes = stream(...object(0, [['self', [BACKREF, 0x00]]]));
    expect(encode(o).bytes.toString('hex')).toBe(bytes.toString('hex'));
    const back = decode(bytes) as Record<string, unknown>;
    expect(back.self).toBe(back);
  });
});
