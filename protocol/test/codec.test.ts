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
