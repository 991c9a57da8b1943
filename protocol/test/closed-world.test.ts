import { MessageChannel } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decode, encode, functionOwnKeys, refusalOf, CodecErrors, type DecodeHooks, type EncodeHooks } from '../index';

const roundTrip = (v: unknown, eh?: EncodeHooks, dh?: DecodeHooks) => decode(encode(v, eh).bytes, dh);
const refused = (v: unknown) => {
  try {
    encode({ holder: v });
  } catch (err) {
    expect((err as { code?: string }).code).toBe(CodecErrors.UNSUPPORTED.code);
    return (err as Error).message;
  }
  throw new Error('encoded a value it should refuse');
};

describe('closed world: a value the codec does not carry whole is refused, its kind named', () => {
  it.each([
    ['a Proxy', () => new Proxy({ a: 1 }, {}), /Proxy/],
    ['a Proxy of an array (Array.isArray is true)', () => new Proxy([1, 2], {}), /Proxy/],
    ['a WeakMap', () => new WeakMap(), /WeakMap/],
    ['a WeakSet', () => new WeakSet(), /WeakSet/],
    ['a WeakRef', () => new WeakRef({}), /WeakRef/],
    ['a pending promise', () => new Promise(() => {}), /pending Promise/],
    ['a generator object', () => (function* g() { yield 1; })(), /generator/],
    ['a SharedArrayBuffer', () => new SharedArrayBuffer(8), /SharedArrayBuffer/],
    ['a Map iterator', () => new Map().entries(), /iterator/],
    ['an unknown built-in kind (MessagePort)', () => new MessageChannel().port1, /MessagePort/],
    ['an unknown built-in kind (Blob)', () => new Blob(['x']), /Blob/],
    ['a native handle inside a JS object (crypto Hash)', () => createHash('sha256'), /Hash/],
    ['an object whose prototype is a native one', () => Object.create(new MessageChannel().port1), /MessagePort/],
    ['an unregistered symbol without an identity hook', () => Symbol('x'), /unregistered symbol Symbol\(x\)/],
    ['an object keyed by an unregistered symbol', () => ({ [Symbol('k')]: 1 }), /unregistered symbol Symbol\(k\)/],
  ])('%s', (_name, make, reason) => {
    const v = make();
    expect(refused(v)).toMatch(reason);
    if (v instanceof MessageChannel) (v as unknown as { port1: { close(): void } }).port1.close();
  });

  it('decides the prototype part once per prototype', () => {
    const port = new MessageChannel().port1;
    const first = refusalOf(port);
    expect(refusalOf(port)).toBe(first);
    port.close();
    expect(refusalOf({})).toBeUndefined();
    expect(refusalOf(new (class Plain {})())).toBeUndefined();
  });
});

class Stack extends Array<number> {
  peek(): number | undefined {
    return this[this.length - 1];
  }
}
class Tally extends Map<string, number> {
  label = 'votes';
}
class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}
const CLASSES = [Stack, Tally, HttpError];
const byName: EncodeHooks = { replace: (o) => (CLASSES.includes(o as typeof Stack) ? { custom: 'cls', data: (o as Function).name } : undefined) };
const fromName: DecodeHooks = { custom: (_t, name) => CLASSES.find((c) => c.name === name) };

describe('faithful recipes', () => {
  it('carries subclasses of Array, Map and Error with their class, built-in state and own fields', () => {
    const s = Stack.from([1, 2]) as Stack;
    const t = new Tally([['a', 1]]);
    const e = new HttpError(404, 'missing');
    const out = roundTrip({ s, t, e }, byName, fromName) as { s: Stack; t: Tally; e: HttpError };
    expect(out.s).toBeInstanceOf(Stack);
    expect(Array.isArray(out.s)).toBe(true);
    expect(out.s.peek()).toBe(2);
    expect(out.t).toBeInstanceOf(Tally);
    expect(out.t.get('a')).toBe(1);
    expect(out.t.label).toBe('votes');
    expect(out.e).toBeInstanceOf(HttpError);
    expect(out.e.status).toBe(404);
    expect(out.e.message).toBe('missing');
    expect(Object.prototype.toString.call(out.e)).toBe('[object Error]');
  });

  it('keeps own properties of built-ins (a Map with a field)', () => {
    const m = Object.assign(new Map([[1, 2]]), { meta: 'x' });
    const out = roundTrip(m) as Map<number, number> & { meta: string };
    expect(out.get(1)).toBe(2);
    expect(out.meta).toBe('x');
  });

  it('keeps views onto one buffer views onto one buffer', () => {
    const ab = new ArrayBuffer(16);
    const u8 = new Uint8Array(ab);
    const f32 = new Float32Array(ab, 4, 2);
    const dv = new DataView(ab, 8);
    const out = roundTrip({ u8, f32, dv }, { budget: 1e9 }) as { u8: Uint8Array; f32: Float32Array; dv: DataView };
    expect(out.f32.buffer).toBe(out.u8.buffer);
    expect(out.dv.buffer).toBe(out.u8.buffer);
    out.f32[0] = 1.5;
    expect(out.u8[6]).toBe(new Uint8Array(new Float32Array([1.5]).buffer)[2]);
    expect([out.f32.byteOffset, out.f32.length, out.dv.byteOffset, out.dv.byteLength]).toEqual([4, 2, 8, 8]);
  });

  it('keeps overlapping Buffer slices sharing memory, and does not ship a pool for slices that share nothing', () => {
    const pool = Buffer.alloc(64, 1);
    const a = pool.subarray(0, 8);
    const b = pool.subarray(4, 12);
    const out = roundTrip({ a, b }, { budget: 1e9 }) as { a: Buffer; b: Buffer };
    out.a[5] = 9;
    expect(out.b[1]).toBe(9);
    const small1 = Buffer.from('abc');
    const small2 = Buffer.from('def');
    const bytes = encode({ small1, small2 }, { budget: 1e9 }).bytes;
    expect(bytes.length).toBeLessThan(64);
  });

  it('rebuilds Intl objects from their resolved options', () => {
    const nf = new Intl.NumberFormat('de-DE', { style: 'currency', currency: 'EUR' });
    const dtf = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', dateStyle: 'medium' });
    const out = roundTrip({ nf, dtf, loc: new Intl.Locale('sv-SE') }) as { nf: Intl.NumberFormat; dtf: Intl.DateTimeFormat; loc: Intl.Locale };
    expect(out.nf.format(1234.5)).toBe(nf.format(1234.5));
    expect(out.dtf.format(new Date(0))).toBe(dtf.format(new Date(0)));
    expect(out.dtf.resolvedOptions()).toEqual(dtf.resolvedOptions());
    expect(String(out.loc)).toBe('sv-SE');
  });

  it('carries well-known symbols, and unregistered ones by the identity the hooks give them', () => {
    const k = Symbol('k');
    const ids = new Map<symbol, number>([[k, 7]]);
    const local = new Map<number, symbol>();
    const out = roundTrip(
      { [k]: 1, tag: Symbol.iterator, again: k },
      { symbolId: (s) => ids.get(s) },
      { symbol: (id, desc) => local.get(id) ?? (local.set(id, Symbol(desc)), local.get(id)!) },
    ) as Record<string | symbol, unknown>;
    const mine = local.get(7)!;
    expect(out[mine]).toBe(1);
    expect(out.again).toBe(mine);
    expect(out.tag).toBe(Symbol.iterator);
  });

  it("keeps a URL's searchParams linked to its URL", () => {
    const url = new URL('https://x.example/s?q=1');
    const out = roundTrip({ url, params: url.searchParams }, { budget: 1e9 }) as { url: URL; params: URLSearchParams };
    out.params.set('q', '2');
    expect(out.url.href).toBe('https://x.example/s?q=2');
  });

  it("lists a function's prototype when it is not the default one", () => {
    function Counter(this: { n: number }) {
      this.n = 0;
    }
    Counter.prototype.inc = function inc() {};
    function Plain() {}
    class K {}
    expect(functionOwnKeys(Counter)).toContain('prototype');
    expect(functionOwnKeys(Plain)).not.toContain('prototype');
    expect(functionOwnKeys(K)).not.toContain('prototype');
  });
});
