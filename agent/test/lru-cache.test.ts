/**
 * lru-cache's LRUCache carried by its public state (protocol/codec/lru.ts): every route of a fixture
 * app keeping caches the ways Express apps do runs with the agent off and with every handler
 * offloaded — same responses, same cache contents and order after each case — and caches whose
 * callbacks or timers the server would run are refused, naming the option.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCatalog, type Case } from './catalog-runner';
import { call, startApp } from './harness';

const APP = path.join(__dirname, 'fixtures/lru-app.cjs');

const CASES: Case[] = [
  ['a response cache: misses, hits, eviction of the least recent', [['GET', '/page/a'], ['GET', '/page/b'], ['GET', '/page/a'], ['GET', '/page/c'], ['GET', '/page/d'], ['GET', '/page/b'], ['GET', '/page/a']], true],
  ['rate-limit counters with a TTL refreshed on get', [['POST', '/hit/1.2.3.4'], ['POST', '/hit/1.2.3.4'], ['POST', '/hit/5.6.7.8'], ['POST', '/hit/1.2.3.4']], true],
  ['sizes from sizeCalculation, evicted by total size', [['POST', '/sized/a', { n: 8 }], ['POST', '/sized/b', { n: 8 }], ['POST', '/sized/c', { n: 8 }], ['POST', '/sized/a', { n: 2 }]], true],
  ['object values changed in place after a get', [['POST', '/users/u1/visit', { tag: 'x' }], ['POST', '/users/u1/visit', {}], ['POST', '/users/u2/visit', { tag: 'y' }], ['GET', '/users/u1'], ['GET', '/users/nobody']], true],
  ['delete', [['DELETE', '/users/u2'], ['DELETE', '/users/u2'], ['GET', '/users/u2']], true],
  ['object keys by identity', [['POST', '/tenant/a'], ['POST', '/tenant/b'], ['POST', '/tenant/a']], true],
  ['a per-entry TTL run out, stale reads, iteration, clear()', [
    ['POST', '/short/one', { v: 'one', ttl: 60_000 }], ['POST', '/short/two', { v: 'two', ttl: 60_000 }], ['POST', '/short/old', { v: 'old', ttl: 5, ago: 50 }],
    ['GET', '/short'], ['GET', '/short/old'], ['GET', '/short/one'], ['GET', '/short'], ['DELETE', '/short'], ['GET', '/short'],
  ], true],
  ['a large cache left on the server: get, set on a miss, peek, has, objects changed in place', [['GET', '/big/k5'], ['GET', '/big/k5'], ['GET', '/big/new1'], ['GET', '/big/k0'], ['GET', '/big/new1']], true],
  ['a large cache: delete, then size and iteration (the cache fetched whole)', [['DELETE', '/big/k7'], ['DELETE', '/big/nope'], ['GET', '/big']], true],
  ['a large cache keyed by objects', [['GET', '/obj/3'], ['GET', '/obj/99']], true],
  ['dispose: refused (the server would run it at load)', [['GET', '/dispose/a'], ['GET', '/dispose/b'], ['GET', '/dispose/c']], /LRUCache with dispose/],
  ['fetchMethod: refused', [['GET', '/fetch/a']], /LRUCache with fetchMethod/],
  ['ttlAutopurge: refused', [['GET', '/purge/a']], /ttlAutopurge/],
];

runCatalog('lru-cache: local and offloaded give the same responses and cache state', APP, CASES);

describe('a large cache on the server whose replay differs', () => {
  it("a set that evicts the entry the handler reads next: the worker's answer cannot stand, the server's own is given", async () => {
    const [local, remote] = await Promise.all([startApp(APP, { BEEHIVE_MODE: 'off' }), startApp(APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '1' })]);
    try {
      for (const [k, oldest] of [['n1', 'f0'], ['n2', 'f1'], ['n3', 'f50']]) {
        const a = await call(local.url, 'POST', `/full/${k}`, { oldest });
        const b = await call(remote.url, 'POST', `/full/${k}`, { oldest });
        expect(b).toEqual(a);
      }
      expect((await call(remote.url, 'GET', '/__state')).body).toEqual((await call(local.url, 'GET', '/__state')).body);
      const stats = await remote.stop();
      const h = stats.handlers.find((x: { route: string }) => x.route === '/full/:k');
      // The handler's `size` brings the cache whole; its calls made again on the copy: reading the
      // entry its own set evicted answers otherwise there (it was told the entry was there), so
      // that request runs on the server; reading one that stays commits from the worker.
      expect({ offloaded: h.offloaded, local: h.local, reason: h.reason }).toEqual({ offloaded: 1, local: 2, reason: undefined });
      expect(h.failures).toBe(2);
    } finally {
      await local.stop();
      await remote.stop();
    }
  });
});

describe('lru-cache under concurrency', () => {
  it('40 concurrent increments of one cached counter: a permutation of 1..40, committed from workers', async () => {
    const app = await startApp(APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '4' });
    try {
      const replies = await Promise.all(Array.from({ length: 40 }, () => call(app.url, 'POST', '/hit/9.9.9.9')));
      const ns = replies.map((r) => (JSON.parse(r.body) as { n: number }).n).sort((a, b) => a - b);
      expect(ns).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      const stats = await app.stop();
      const h = stats.handlers.find((x: { route: string }) => x.route === '/hit/:ip');
      expect(h.local + h.offloaded).toBe(40);
      // The cache turns hot after its first conflicts and is then fetched under its lock (its
      // methods bound to the copy, whose private fields a stand-in does not have): most commit from
      // workers. Inline only, 8 of 80 did and the rest ran again on the server.
      expect(h.offloaded).toBeGreaterThanOrEqual(30);
    } finally {
      await app.stop();
    }
  });

  it('40 concurrent misses and hits on a large cache left on the server: nothing lost', async () => {
    const app = await startApp(APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '4' });
    try {
      const replies = await Promise.all(Array.from({ length: 40 }, () => call(app.url, 'GET', '/big/shared')));
      const reads = replies.map((r) => JSON.parse(r.body).v.reads as number).sort((a, b) => a - b);
      expect(reads).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(replies.filter((r) => JSON.parse(r.body).hit === false)).toHaveLength(1);
      const stats = await app.stop();
      const h = stats.handlers.find((x: { route: string }) => x.route === '/big/:k');
      expect(h.local + h.offloaded).toBe(40);
      expect(h.offloaded).toBeGreaterThanOrEqual(20);
    } finally {
      await app.stop();
    }
  });
});
