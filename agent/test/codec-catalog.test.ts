import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApp, type Reply, type RunningApp } from './harness';

const APP = path.join(__dirname, 'fixtures/codec-app.cjs');

type Req = [method: string, path: string, body?: unknown, headers?: Record<string, string>];
/**
 * name → requests, and what the handlers they reach must do: `true` offloaded, a RegExp refused
 * with a reason matching it, 'falls back' tried on a worker that refused a value only when it was
 * fetched, then run locally. Each case runs against a local app and an offloading one, in the
 * same order: same responses, same state dump.
 */
const CASES: Array<[string, Req[], true | RegExp | 'falls back' | 'verified']> = [
  // values from the issue
  ['lowdb@1 with its memory adapter: read', [['GET', '/lowdb/posts']], true],
  ['lowdb@1 with its memory adapter: write', [['POST', '/lowdb/posts', { title: 'second' }], ['GET', '/lowdb/posts']], true],
  ['lodash _.chain over module data', [['GET', '/chain']], true],
  ['lodash _.memoize keeps its cache', [['GET', '/memo/3'], ['GET', '/memo/3'], ['GET', '/memo/4']], true],
  ['lru-cache LRUCache (private fields)', [['GET', '/lru/a'], ['GET', '/lru/a']], /LRUCache.*private/],
  ['Intl.NumberFormat', [['GET', '/money/1234.5']], true],
  ['privacy through a module-level WeakMap', [['POST', '/wallet/deposit', { n: 5 }], ['POST', '/wallet/deposit', { n: 2 }]], /WeakMap/],
  ['a settled module-level promise', [['GET', '/ready'], ['GET', '/ready']], true],
  ['a pending promise', [['GET', '/pending']], /pending Promise/],
  ['a Proxy with get and set traps', [['POST', '/proxied', { mode: 'fast' }]], /Proxy/],
  ['typed-array views and Buffer slices sharing one buffer', [['POST', '/views'], ['POST', '/views']], true],
  ['class Stack extends Array', [['POST', '/stack', { n: 7 }], ['POST', '/stack', { n: 8 }]], true],
  ['class Tally extends Map with own fields', [['POST', '/tally/x'], ['POST', '/tally/x'], ['POST', '/tally/y']], true],
  ['own *[Symbol.iterator]()', [['GET', '/iter']], true],
  ['a class-field arrow function as the route handler', [['GET', '/arrow-handler']], /`this`/],
  ['a class-field arrow function using this, called through its instance', [['GET', '/arrow-field/2.34']], true],
  ['marked.use() at start-up', [['GET', '/md']], true],
  // Its parse closures are package functions fetched on first call; one of them is an arrow using
  // `this`, refused when fetched: the invocation fails and the request runs locally.
  ['new Marked()', [['GET', '/md2']], 'falls back'],
  ['dayjs.extend(utc)', [['GET', '/utc']], true],
  ["require('dayjs/locale/de')", [['GET', '/de']], true],
  ['URLSearchParams changed by the handler, linked to its URL', [['POST', '/search', { tag: 'green' }], ['POST', '/search', { tag: 'black' }]], true],
  ['ES5 constructor with prototype methods', [['POST', '/es5'], ['POST', '/es5']], true],
  ['util.inherits', [['GET', '/pets']], true],
  ['boxed primitives', [['GET', '/boxed']], true],
  ['Error subclass with own fields', [['GET', '/http-error']], true],
  ['an unknown built-in kind (crypto Hash)', [['GET', '/hash/x']], /Hash/],
  // what popular Express apps keep in module scope
  ['per-IP rate limiter Map', [['POST', '/limited', {}, { 'x-ip': '1' }], ['POST', '/limited', {}, { 'x-ip': '1' }], ['POST', '/limited', {}, { 'x-ip': '1' }], ['POST', '/limited', {}, { 'x-ip': '2' }]], true],
  ['JWT deny-list Set', [['POST', '/logout', { token: 't1' }], ['GET', '/check/t1'], ['GET', '/check/t2']], true],
  ['in-memory session store with Dates', [['POST', '/login', { sid: 's1', user: 'u1' }], ['POST', '/login', { sid: 's2', user: 'u2' }]], true],
  ['null-prototype counters dictionary', [['GET', '/hit/home'], ['GET', '/hit/home'], ['GET', '/hit/about']], true],
  ['Float64Array histogram', [['POST', '/observe/50'], ['POST', '/observe/5000']], true],
  ['EventEmitter bus whose listener records into module state', [['POST', '/events/signup'], ['POST', '/events/login']], true],
  ['global RegExp validator (lastIndex state)', [['GET', '/valid/abc'], ['GET', '/valid/abc'], ['GET', '/valid/abc']], true],
  ['Intl.DateTimeFormat with a time zone', [['GET', '/date/1700000000000']], true],
  ['HMAC with a Buffer secret', [['GET', '/sign/hello']], true],
  ['Map used as an LRU (delete + set, evict first)', [['GET', '/recent/a'], ['GET', '/recent/b'], ['GET', '/recent/a'], ['GET', '/recent/c']], true],
  ['state under an unregistered Symbol key', [['GET', '/svc'], ['GET', '/svc']], true],
  ['frozen enum of unique symbols', [['POST', '/tickets/t1/close']], true],
  ['BigInt ledger and a static 0n in a class body', [['POST', '/ledger/5'], ['POST', '/ledger/7']], true],
  ['static class registry', [['POST', '/models', { name: 'm1' }], ['POST', '/models', { name: 'm2' }]], true],
  ['TTL cache of Dates', [['GET', '/ttl/k?t=0'], ['GET', '/ttl/k?t=2'], ['GET', '/ttl/k?t=9']], true],
  ['nested Maps (cart per user)', [['POST', '/cart/u1/a'], ['POST', '/cart/u1/a'], ['POST', '/cart/u2/b']], true],
  ['leaderboard sorted and spliced in place', [['POST', '/score', { name: 'cy', score: 7 }], ['POST', '/score', { name: 'di', score: 1 }]], true],
  ['module-pattern service closing over a const array', [['POST', '/store', { x: 1 }], ['POST', '/store', { x: 2 }]], true],
  ['JSON config required at the top', [['GET', '/config']], true],
  ['URL base for links', [['GET', '/link/42']], true],
  ['Set of roles inside a Map of users', [['POST', '/grant/p1', { role: 'writer' }]], true],
  // A run that ends in a thrown error is verified: discarded on the worker and run here.
  ['thrown Error subclass with a class field', [['GET', '/not-found']], 'verified'],
];

const ROUTE_OF: Record<string, string> = { '/tickets/t1/close': '/tickets/:id/close', '/grant/p1': '/grant/:id' };

describe('codec catalog: module-scope values of real apps, local and offloaded give the same responses and state', () => {
  let local: RunningApp;
  let remote: RunningApp;
  beforeAll(async () => {
    [local, remote] = await Promise.all([
      startApp(APP, { BEEHIVE_MODE: 'off' }),
      startApp(APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '1', BEEHIVE_CLOSURE_BUDGET: '65536' }),
    ]);
  });
  let stats: Record<string, any> | undefined;
  afterAll(async () => {
    await local?.stop();
    stats ??= await remote?.stop();
  });

  for (const [name, reqs] of CASES) {
    it(name, async () => {
      for (const [method, p, body, headers] of reqs) {
        const a: Reply = await call(local.url, method, p, body, headers);
        const b: Reply = await call(remote.url, method, p, body, headers);
        expect(b, `${method} ${p}`).toEqual(a);
      }
      const sa = await call(local.url, 'GET', '/__state');
      const sb = await call(remote.url, 'GET', '/__state');
      expect(sb.body).toEqual(sa.body);
    });
  }

  it('offloaded each handler or refused it for the expected reason', async () => {
    stats = await remote.stop();
    const byRoute = new Map<string, any>(stats.handlers.map((h: any) => [`${h.method} ${h.route}`, h]));
    const problems: unknown[] = [];
    for (const [name, reqs, expected] of CASES) {
      for (const [method, p] of reqs) {
        const route = ROUTE_OF[p] ?? p;
        const h = [...byRoute.values()].find((x) => matches(x.route, p.split('?')[0]) && x.method === method);
        if (!h) {
          problems.push({ name, route, missing: true });
          continue;
        }
        if (expected === 'verified') {
          if (h.offloaded > 0 || h.reexecuted === 0 || h.diverged > 0 || h.failures > 0) problems.push({ name, route: h.route, offloaded: h.offloaded, reexecuted: h.reexecuted, diverged: h.diverged });
        } else if (expected === 'falls back') {
          if (h.offloaded > 0 || h.failures === 0) problems.push({ name, route: h.route, offloaded: h.offloaded, failures: h.failures });
        } else if (expected === true) {
          if (h.reason || h.local > 0 || h.failures > 0 || h.offloaded === 0) problems.push({ name, route: h.route, reason: h.reason, local: h.local, failures: h.failures, offloaded: h.offloaded });
        } else if (!expected.test(h.reason ?? '') || h.offloaded > 0) problems.push({ name, route: h.route, expected: String(expected), reason: h.reason, offloaded: h.offloaded });
      }
    }
    expect(problems).toEqual([]);
  });
});

/** Whether an Express route pattern matches a concrete path. */
function matches(route: string, p: string): boolean {
  const re = new RegExp(`^${route.replace(/:[^/]+/g, '[^/]+')}$`);
  return re.test(p);
}
