'use strict';
// BeeHive's closure codec beside devalue (the serializer the product brief named), in one run:
// encode and decode time and bytes on three workloads (what a handler's closure typically holds, a
// ~2 MB array of rows, a small object), and what each carries faithfully, each cell found by a
// round trip here, not written from memory. Every run is a fresh process; timings are the median
// over rounds within a run, then the median over runs. JSON.stringify/parse is printed as a floor.
//
//   npm run build && node bench/codec/devalue.js          # bench/results/devalue.{json,md}
//   RUNS=1 ROUNDS=5 node bench/codec/devalue.js --out /tmp/d.json --md /tmp/d.md
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const { parseArgs } = require('node:util');
const { machine, median } = require('../agent/lib');

const ROOT = path.join(__dirname, '../..');
const RUNS = Number(process.env.RUNS || 5);
const ROUNDS = Number(process.env.ROUNDS || 15);

// ---------------------------------------------------------------- codecs under test

function codecs(devalue) {
  const { encode, decode } = require('../../dist/protocol');
  // The agent gives every object an identity (its export table) so the server can map a worker's
  // copies back and diff them at the commit point; `idOf` stands for it, a WeakMap lookup here.
  const ids = new WeakMap();
  let next = 1;
  const idOf = (o) => {
    let id = ids.get(o);
    if (id === undefined) ids.set(o, (id = next++));
    return id;
  };
  return {
    beehive: { label: 'BeeHive codec', enc: (v) => encode(v).bytes, dec: (b) => decode(b, { onObject: () => {} }) },
    // As a capture calls it: identities, and a byte budget (large enough to inline everything here)
    // whose planning pass also finds typed-array views sharing a buffer.
    'beehive-ids': { label: 'BeeHive codec, with ids and a budget (as a capture)', enc: (v) => encode(v, { idOf, budget: 64 << 20 }).bytes, dec: (b) => decode(b, { onObject: () => {} }) },
    devalue: { label: 'devalue stringify / parse', enc: (v) => devalue.stringify(v), dec: (s) => devalue.parse(s) },
    uneval: { label: 'devalue uneval / eval', enc: (v) => devalue.uneval(v), dec: (s) => (0, eval)(`(${s})`) },
    json: { label: 'JSON.stringify / parse (floor)', enc: (v) => JSON.stringify(v), dec: (s) => JSON.parse(s) },
  };
}
const sizeOf = (out) => (typeof out === 'string' ? Buffer.byteLength(out) : out.length);

// ---------------------------------------------------------------- workloads

/** What a typical handler's closure holds: config, a Map of users, a Set, Dates, a RegExp, bytes, shared references, a cycle. */
function closureLike() {
  const db = { host: 'db.internal', port: 5432, pool: { min: 2, max: 10, idleMs: 30_000 } };
  const config = { env: 'production', db, features: ['search', 'export', 'beta-ui'], limits: { perMinute: 120, burst: 20 }, started: new Date(1_700_000_000_000) };
  const users = new Map();
  for (let i = 0; i < 50; i++) users.set(`u${i}`, { id: i, name: `user ${i}`, email: `user${i}@example.com`, roles: i % 5 ? ['reader'] : ['reader', 'admin'], created: new Date(1_690_000_000_000 + i * 86_400_000), prefs: { theme: i % 2 ? 'dark' : 'light', lang: 'en' } });
  const admins = new Set([...users.values()].filter((u) => u.roles.includes('admin')));
  const bytes = new Uint8Array(256).map((_, i) => i);
  const state = { config, users, admins, tags: new Set(['a', 'b', 'c', 'd']), route: /^\/api\/(\w+)\/(\d+)$/i, etagSeed: bytes, stats: { hits: 1234, misses: 56, last: new Date(1_700_000_100_000) }, pool: db };
  state.owner = state; // a cycle: an object reaching its holder
  return state;
}

/** ~2 MB as JSON: 20,000 rows of 5 fields. */
function rows() {
  const out = [];
  for (let i = 0; i < 20_000; i++) out.push({ id: i, name: `customer-${i}`, email: `customer${i}@example.com`, score: Math.round(((i * 7919) % 10_000) / 7) / 10, active: i % 3 !== 0 });
  return out;
}

/** ~10 fields. */
function small() {
  return { id: 42, name: 'Ada Lovelace', email: 'ada@example.com', age: 36, active: true, score: 98.5, tags: ['admin', 'ops'], plan: 'pro', country: 'GB', lastSeen: 1_700_000_000_000 };
}

const WORKLOADS = [
  { key: 'closure', label: 'closure-like state (Map of 50 users, Set, Dates, RegExp, Uint8Array, shared refs, a cycle)', make: closureLike, iters: 200 },
  { key: 'rows', label: '20,000 rows × 5 fields', make: rows, iters: 2 },
  { key: 'small', label: 'small object, 10 fields', make: small, iters: 5000 },
];

/** One process: every workload, every codec, interleaved per round. */
async function child() {
  const devalue = await import('devalue');
  const cs = codecs(devalue);
  const out = {};
  for (const w of WORKLOADS) {
    const value = w.make();
    out[w.key] = {};
    const live = {};
    for (const [k, c] of Object.entries(cs)) {
      let bytes;
      try {
        bytes = c.enc(value);
      } catch (err) {
        out[w.key][k] = { refused: String(err.message).split('\n')[0] };
        continue;
      }
      const copy = c.dec(bytes);
      out[w.key][k] = { bytes: sizeOf(bytes), faithful: util.isDeepStrictEqual(copy, value), encUs: [], decUs: [] };
      live[k] = { c, bytes };
    }
    // Warm-up: a few rounds unmeasured, so every codec's code is optimised before timing.
    for (let r = 0; r < 3; r++) for (const { c } of Object.values(live)) for (let i = 0; i < w.iters; i++) c.dec(c.enc(value));
    const order = Object.entries(live);
    for (let r = 0; r < ROUNDS; r++) {
      // Rotated each round, so no codec always runs first (right after another's garbage).
      for (const [k, { c, bytes }] of [...order.slice(r % order.length), ...order.slice(0, r % order.length)]) {
        let t = process.hrtime.bigint();
        for (let i = 0; i < w.iters; i++) c.enc(value);
        out[w.key][k].encUs.push(Number(process.hrtime.bigint() - t) / 1e3 / w.iters);
        t = process.hrtime.bigint();
        for (let i = 0; i < w.iters; i++) c.dec(bytes);
        out[w.key][k].decUs.push(Number(process.hrtime.bigint() - t) / 1e3 / w.iters);
      }
    }
    for (const r of Object.values(out[w.key])) if (r.encUs) Object.assign(r, { encUs: median(r.encUs), decUs: median(r.decUs) });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

// ---------------------------------------------------------------- capabilities

/**
 * Each case makes a value and checks a copy: true when faithful, else a string naming what was
 * lost. `hooks` are what the agent passes the codec for that case (its function codec, its
 * identities, its budget); minimal stand-ins here, the agent's own in agent/capture/.
 */
function cases() {
  const sameDesc = (a, b) => a.length === b.length && a.every((s, i) => s.description === b[i].description);
  return [
    ['cycles and shared identity', () => { const s = { n: 1 }; const o = { a: s, b: s }; o.self = o; return o; }, (o, c) => (c.a === c.b && c.self === c) || 'shared object copied twice or cycle lost'],
    ['Map, Set (object keys, insertion order)', () => { const k = { k: 1 }; return { m: new Map([[k, 'v'], ['z', 2], ['a', 3]]), s: new Set([k, 'x']), k }; },
      (o, c) => (c.m instanceof Map && c.s instanceof Set && [...c.m.keys()][0] === c.k && c.s.has(c.k) && [...c.m.keys()].slice(1).join() === 'z,a') || 'lost'],
    ['Date (and an invalid Date)', () => ({ d: new Date(1_700_000_000_123), bad: new Date(NaN) }), (o, c) => (c.d instanceof Date && c.d.getTime() === o.d.getTime() && c.bad instanceof Date && Number.isNaN(c.bad.getTime())) || 'lost'],
    ['RegExp with flags and lastIndex', () => { const r = /a+b/gi; r.lastIndex = 3; return r; }, (o, c) => (c instanceof RegExp && c.source === o.source && c.flags === o.flags && c.lastIndex === 3) || `lastIndex ${c?.lastIndex}, flags ${c?.flags}`],
    ['typed arrays sharing one ArrayBuffer', () => { const ab = new ArrayBuffer(16); return { a: new Uint8Array(ab, 0, 8), b: new Uint32Array(ab, 8, 2), all: new Uint8Array(ab) }; },
      (o, c) => { if (!(c.a instanceof Uint8Array && c.b instanceof Uint32Array)) return 'kinds lost'; if (c.a.buffer !== c.b.buffer || c.all.buffer !== c.a.buffer) return 'views get separate buffers (a write through one no longer shows in the other)'; return (c.a.byteOffset === 0 && c.b.byteOffset === 8) || 'offsets lost'; }],
    ['Buffer', () => Buffer.from('hello'), (o, c) => (Buffer.isBuffer(c) ? c.equals(o) || 'bytes differ' : `comes back as ${c?.constructor?.name} of ${c?.byteLength} bytes`)],
    ['boxed primitives', () => [new Number(1), new String('s'), new Boolean(false)], (o, c) => (c.every((x, i) => typeof x === 'object' && x.valueOf() === o[i].valueOf())) || `come back as ${c.map((x) => typeof x).join(', ')}`],
    ['BigInt', () => ({ n: 2n ** 70n }), (o, c) => c.n === o.n || 'lost'],
    ['-0, NaN, ±Infinity, undefined', () => [-0, NaN, Infinity, -Infinity, undefined], (o, c) => (c.length === 5 && Object.is(c[0], -0) && Number.isNaN(c[1]) && c[2] === Infinity && c[3] === -Infinity && c[4] === undefined && 4 in c) || 'lost'],
    ['sparse arrays (and extra properties on an array)', () => { const a = [1, , 3]; a[10] = 5; a.extra = 'x'; return a; }, (o, c) => { if (c.length !== 11 || 1 in c || c[10] !== 5) return 'holes lost'; return c.extra === 'x' || 'holes kept, extra property dropped'; }],
    ['symbols as keys (registered and unique)', () => ({ [Symbol.for('reg')]: 1, [Symbol('own')]: 2, plain: 3 }),
      (o, c) => { const s = Object.getOwnPropertySymbols(c); return (sameDesc(s, Object.getOwnPropertySymbols(o)) && s[0] === Symbol.for('reg') && c[s[1]] === 2) || `${s.length} of 2 symbol keys kept`; }],
    ['non-enumerable and accessor properties', () => { const o = { v: 1 }; Object.defineProperty(o, 'hidden', { value: 2, enumerable: false }); Object.defineProperty(o, 'acc', { get() { return this.v * 10; }, enumerable: true }); return o; },
      (o, c) => {
        const h = Object.getOwnPropertyDescriptor(c, 'hidden');
        const a = Object.getOwnPropertyDescriptor(c, 'acc');
        const lost = [];
        if (!h || h.enumerable) lost.push(h ? 'non-enumerable becomes enumerable' : 'non-enumerable property dropped');
        if (!a || !a.get) lost.push(a ? 'accessor flattened to its value' : 'accessor dropped');
        else if ((c.v = 2) && c.acc !== 20) lost.push('accessor wrong');
        return lost.length ? lost.join(', ') : true;
      }],
    ['class instances (prototype kept)', () => { class Point { constructor(x, y) { this.x = x; this.y = y; } norm() { return Math.hypot(this.x, this.y); } } return new Point(3, 4); },
      (o, c) => (c && c.constructor.name === 'Point' && typeof c.norm === 'function' && c.norm() === 5) || 'prototype lost'],
    ['functions and classes as code', () => { class K { m() { return 7; } } return { f: function add(a, b) { return a + b; }, K }; },
      (o, c) => (typeof c.f === 'function' && c.f(1, 2) === 3 && new c.K().m() === 7) || 'lost'],
    ['Intl objects', () => new Intl.NumberFormat('de-DE', { style: 'currency', currency: 'EUR' }), (o, c) => (c instanceof Intl.NumberFormat && c.format(1234.5) === o.format(1234.5)) || 'lost'],
    ['URL, URLSearchParams', () => ({ u: new URL('https://example.com/a?x=1#h'), p: new URLSearchParams('a=1&b=2') }), (o, c) => (c.u instanceof URL && c.u.href === o.u.href && c.p instanceof URLSearchParams && String(c.p) === String(o.p)) || 'lost'],
  ];
}

/** The BeeHive column's hooks: a toy function codec (source text as the code record), identities for unique symbols. */
function beehiveHooks() {
  const syms = new Map();
  const back = new Map();
  return {
    enc: {
      replace: (v) => (typeof v === 'function' ? { fn: { header: Function.prototype.toString.call(v), data: null } } : undefined),
      symbolId: (s) => { if (!syms.has(s)) syms.set(s, syms.size + 1); return syms.get(s); },
    },
    dec: {
      // Method shorthand (`get() {...}`) is no expression: rebuilt as an object literal's member.
      createFunction: (header) => { try { return (0, eval)(`(${header})`); } catch { return Object.values(Object.getOwnPropertyDescriptors((0, eval)(`({ ${header} })`)))[0].value; } },
      fillFunction: () => {},
      symbol: (id, description) => { if (!back.has(id)) back.set(id, Symbol(description)); return back.get(id); },
    },
  };
}

function tryRoundTrip(enc, dec, make, check) {
  const value = make();
  let copy;
  try {
    copy = dec(enc(value));
  } catch (err) {
    return { ok: false, refused: true, note: `refused: ${String(err.message).split('\n')[0].slice(0, 90)}` };
  }
  let r;
  try {
    r = check(value, copy);
  } catch (err) {
    r = `copy unusable (${err.message})`;
  }
  return r === true ? { ok: true, note: 'yes' } : { ok: false, note: `no: ${r}` };
}

async function capabilities() {
  const devalue = await import('devalue');
  const { encode, decode } = require('../../dist/protocol');
  const evalUneval = (s) => (0, eval)(`(${s})`);
  const table = [];
  for (const [name, make, check] of cases()) {
    const h = beehiveHooks();
    const beehive = tryRoundTrip((v) => encode(v, { ...h.enc, budget: 64 << 20 }).bytes, (b) => decode(b, h.dec), make, check);
    // A capture always passes a budget; bare `encode(v)` skips the planning pass that finds shared buffers.
    const bare = tryRoundTrip((v) => encode(v, h.enc).bytes, (b) => decode(b, h.dec), make, check);
    if (bare.note !== beehive.note) beehive.note += `; bare \`encode(v)\`, no budget: ${bare.note.replace(/^no: /, '')}`;
    table.push({
      name,
      beehive,
      devalue: tryRoundTrip((v) => devalue.stringify(v), (s) => devalue.parse(s), make, check),
      uneval: tryRoundTrip((v) => devalue.uneval(v), evalUneval, make, check),
    });
  }

  // Identity: every object decoded carries the id its original was given, so a worker's copy can be
  // mapped back to the server's object and diffed at the commit point. devalue's API has no
  // per-object hook on either side; its copies cannot be told apart from new objects.
  {
    const orig = { a: { b: {} }, list: [{}, {}] };
    const ids = new Map();
    const want = new Map();
    encode(orig, { idOf: (o) => { if (!ids.has(o)) ids.set(o, ids.size + 1); return ids.get(o); } });
    const got = new Map();
    const bytes = encode(orig, { idOf: (o) => ids.get(o) }).bytes;
    const copy = decode(bytes, { onObject: (o, id) => got.set(o, id) });
    for (const [o, id] of ids) want.set(id, o);
    const pairs = [[copy, orig], [copy.a, orig.a], [copy.a.b, orig.a.b], [copy.list, orig.list], [copy.list[0], orig.list[0]], [copy.list[1], orig.list[1]]];
    const ok = pairs.every(([c, o]) => want.get(got.get(c)) === o);
    table.push({ name: 'an identity id per object (map a copy back to its original)', beehive: { ok, note: ok ? 'yes (`idOf` / `onObject`)' : 'no' }, devalue: { ok: false, note: 'no: no per-object hook in stringify or parse' }, uneval: { ok: false, note: 'no: no per-object hook' } });
  }

  // Remote references: objects beyond a byte budget are left out as references the other side
  // resolves when touched. devalue always serialises the whole graph.
  {
    const orig = { small: { n: 1 }, big: { data: 'x'.repeat(100_000) } };
    const res = encode(orig, { budget: 1000, idOf: () => 1, overBudget: (o, kind) => ({ ref: 7, kind }) });
    const copy = decode(res.bytes, { ref: (ref, kind) => ({ remote: ref, kind }) });
    const ok = copy.small.n === 1 && copy.big.remote === 7 && res.bytes.length < 2000;
    const whole = Buffer.byteLength((await import('devalue')).stringify(orig));
    table.push({ name: 'remote references for objects left out (byte budget)', beehive: { ok, note: ok ? `yes: ${res.bytes.length} B with the 100 kB string left on the server` : 'no' }, devalue: { ok: false, note: `no: always the whole graph (${whole} B)` }, uneval: { ok: false, note: 'no: always the whole graph' } });
  }

  // Refusal: what cannot travel must be refused, never copied lossily.
  {
    function* gen() { yield 1; }
    class Vault { #x = 1; get x() { return this.#x; } }
    const kinds = [['WeakMap', () => new WeakMap([[{}, 1]])], ['Proxy', () => new Proxy({ a: 1 }, { get: () => 2 })], ['generator', () => gen()], ['Promise', () => new Promise(() => {})], ['#private instance', () => new Vault()], ['socket-like (EventEmitter subclass)', () => new (require('node:net').Socket)()]];
    const row = { name: 'refuses what it cannot carry (WeakMap, Proxy, generator, pending Promise, #private, socket)' };
    const runs = {
      beehive: (v) => decode(encode(v).bytes),
      devalue: (v) => devalue.parse(devalue.stringify(v)),
      uneval: (v) => evalUneval(devalue.uneval(v)),
    };
    for (const [col, rt] of Object.entries(runs)) {
      const lossy = [];
      for (const [k, make] of kinds) {
        const v = make();
        try {
          const c = rt(v);
          lossy.push(`${k} → ${util.inspect(c, { depth: 0, breakLength: Infinity }).slice(0, 30)}`);
        } catch { /* refused: what we want */ }
        if (k.startsWith('socket')) v.destroy();
      }
      row[col] = lossy.length ? { ok: false, note: `no: copies ${lossy.join('; ')}` } : { ok: true, note: 'yes: refuses all six' };
    }
    table.push(row);
  }
  return table;
}

// ---------------------------------------------------------------- driver

async function main() {
  const { values: a } = parseArgs({ options: { out: { type: 'string', default: path.join(ROOT, 'bench/results/devalue.json') }, md: { type: 'string', default: path.join(ROOT, 'bench/results/devalue.md') } } });
  const devalueVersion = require(path.join(path.dirname(require.resolve('devalue')), '../package.json')).version;
  const info = { ...machine(), runs: RUNS, rounds: ROUNDS, devalue: devalueVersion, at: new Date().toISOString() };
  console.error(`machine: ${JSON.stringify(info)}`);
  const runs = [];
  for (let r = 0; r < RUNS; r++) {
    runs.push(JSON.parse(execFileSync(process.execPath, [__filename, '--child'], { encoding: 'utf8', maxBuffer: 1 << 26 })));
    console.error(`run ${r + 1}/${RUNS} done`);
  }
  const cols = Object.keys(runs[0][WORKLOADS[0].key]);
  const labels = Object.fromEntries(Object.entries(codecs({})).map(([k, c]) => [k, c.label]));
  const perf = WORKLOADS.map((w) => ({
    workload: w.key, label: w.label,
    codecs: cols.map((k) => {
      const xs = runs.map((run) => run[w.key][k]);
      if (xs[0].refused) return { codec: k, label: labels[k], refused: xs[0].refused };
      return { codec: k, label: labels[k], encUs: median(xs.map((x) => x.encUs)), decUs: median(xs.map((x) => x.decUs)), bytes: xs[0].bytes, faithful: xs.every((x) => x.faithful), perRun: xs.map(({ encUs, decUs }) => ({ encUs, decUs })) };
    }),
  }));
  const caps = await capabilities();
  fs.mkdirSync(path.dirname(a.out), { recursive: true });
  fs.writeFileSync(a.out, JSON.stringify({ machine: info, perf, capabilities: caps }, null, 2) + '\n');

  const us = (x) => (x >= 1000 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(0) : x.toFixed(2));
  const lines = ['| workload | codec | encode µs/op | decode µs/op | bytes | round trip deep-equal |', '| --- | --- | ---: | ---: | ---: | :---: |'];
  for (const w of perf) {
    for (const c of w.codecs) {
      if (c.refused) lines.push(`| ${w.label} | ${c.label} | refused | | | ${c.refused.slice(0, 60)} |`);
      else lines.push(`| ${w.label} | ${c.label} | ${us(c.encUs)} | ${us(c.decUs)} | ${c.bytes.toLocaleString('en-US')} | ${c.faithful ? 'yes' : 'no'} |`);
    }
  }
  const capLines = ['| carries faithfully | BeeHive codec | devalue stringify / parse | devalue uneval |', '| --- | --- | --- | --- |'];
  for (const c of caps) capLines.push(`| ${c.name} | ${c.beehive.note} | ${c.devalue.note} | ${c.uneval.note} |`);
  const md = `# BeeHive's closure codec beside devalue ${devalueVersion}\n\n` +
    `${RUNS} runs (fresh processes); in each, ${ROUNDS} rounds after 3 of warm-up, the codecs interleaved within a round; ` +
    `µs per operation, median over rounds, then over runs. BeeHive: \`encode(v).bytes\` / \`decode(bytes, { onObject })\` from \`dist/protocol\`; ` +
    `"with ids and a budget" adds what a capture always passes: the \`idOf\` hook (a WeakMap lookup here) and a byte budget (64 MB here, so everything is inlined), whose planning pass walks the graph once more. Bytes: the encoded length (UTF-8 for strings).\n` +
    `Machine: ${info.cpu}, ${info.cores} cores, Node ${info.node}, load average at start ${info.loadavg.join(' / ')}.\n\n` +
    `${lines.join('\n')}\n\n` +
    `## What each carries\n\nEach cell is a round trip made by the script and checked (\`yes\`, or what was lost, or the codec's refusal). ` +
    `BeeHive's cells use the hooks a capture passes: a byte budget, a function codec (here a toy one: the source text as the code record; the agent's carries captured variables too), identities for objects and unique symbols, remote references; where bare \`encode(v)\` differs, the cell says so.\n\n` +
    `${capLines.join('\n')}\n`;
  fs.writeFileSync(a.md, md);
  process.stdout.write(md);
}

if (process.argv[2] === '--child') child().catch((err) => { console.error(err); process.exit(1); });
else main().catch((err) => { console.error(err); process.exit(1); });
