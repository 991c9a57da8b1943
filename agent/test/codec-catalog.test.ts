import path from 'node:path';
import { runCatalog, type Case } from './catalog-runner';

const APP = path.join(__dirname, 'fixtures/codec-app.cjs');

/**
 * name → requests, and what the handlers they reach must do: `true` offloaded, a RegExp refused
 * with a reason matching it, 'falls back' tried on a worker that refused a value only when it was
 * fetched, then run locally. Each case runs against a local app and an offloading one, in the
 * same order: same responses, same state dump.
 */
const CASES: Case[] = [
  // values from the issue
  ['lowdb@1 with its memory adapter: read', [['GET', '/lowdb/posts']], true],
  ['lowdb@1 with its memory adapter: write', [['POST', '/lowdb/posts', { title: 'second' }], ['GET', '/lowdb/posts']], true],
  ['lodash _.chain over module data', [['GET', '/chain']], true],
  ['lodash _.memoize keeps its cache', [['GET', '/memo/3'], ['GET', '/memo/3'], ['GET', '/memo/4']], true],
  ['lru-cache LRUCache (by its public state)', [['GET', '/lru/a'], ['GET', '/lru/a'], ['GET', '/lru/b'], ['GET', '/lru/c'], ['GET', '/lru/a']], true],
  ['Intl.NumberFormat', [['GET', '/money/1234.5']], true],
  ['privacy through a module-level WeakMap', [['POST', '/wallet/deposit', { n: 5 }], ['POST', '/wallet/deposit', { n: 2 }]], true],
  ['a settled module-level promise', [['GET', '/ready'], ['GET', '/ready']], true],
  ['a pending promise', [['GET', '/pending']], true],
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
  ['new Marked()', [['GET', '/md2']], true],
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

runCatalog('codec catalog: module-scope values of real apps, local and offloaded give the same responses and state', APP, CASES);
