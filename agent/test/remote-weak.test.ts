/**
 * WeakMaps, WeakSets and pending promises stay on the server (offload-worker/remote-weak.ts): a
 * worker's reads of one entry are answered there and checked at the commit point, its writes are
 * applied at the commit, and a promise the server holds pending settles on the worker when it
 * settles there. Each case runs with the agent off and with every handler offloaded: same responses,
 * same state after it; a read a worker cannot answer faithfully (a key it made itself) runs the
 * handler on the server instead.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCatalog, type Case } from './catalog-runner';
import { call, startApp, type RunningApp } from './harness';

const APP = path.join(__dirname, 'fixtures/weak-app.cjs');

const CASES: Case[] = [
  ['#private fields compiled to WeakMaps (TypeScript below ES2022)', [['POST', '/acct/ada/deposit', { n: 5 }], ['POST', '/acct/ada/deposit', { n: 7 }], ['POST', '/acct/bob/deposit', { n: 1 }], ['GET', '/acct/ada']], true],
  ['a WeakSet of revoked tokens: has, add, delete', [['GET', '/check/t1'], ['GET', '/check/t2'], ['POST', '/revoke/t1'], ['GET', '/check/t1'], ['POST', '/restore/t2'], ['POST', '/restore/t2'], ['GET', '/check/t2']], true],
  ['a WeakMap memo keyed by records: miss, hit, delete, miss again', [['GET', '/summary/a'], ['GET', '/summary/a'], ['GET', '/summary/b'], ['DELETE', '/summary/a'], ['GET', '/summary/a']], true],
  ['a read with a key made on the worker runs on the server', [['GET', '/fresh']], /WeakMap read with a key the server did not send/],
  ['a write keyed by the request runs on the server', [['GET', '/tag']], /written with the request or response as its key/],
];

runCatalog('weak collections: local and offloaded give the same responses and state', APP, CASES);

describe('pending promises and weak collections under load', () => {
  let local: RunningApp;
  let remote: RunningApp;
  beforeAll(async () => {
    [local, remote] = await Promise.all([startApp(APP, { BEEHIVE_MODE: 'off' }), startApp(APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '4' })]);
  });
  afterAll(async () => {
    await local?.stop();
    await remote?.stop();
  });

  it('a handler awaiting a promise the server still holds pending answers once it settles there, resolved or rejected', async () => {
    // Asked before the promises settle: the worker waits on the server's promise.
    const waits = [call(local.url, 'GET', '/ready'), call(remote.url, 'GET', '/ready'), call(local.url, 'GET', '/load'), call(remote.url, 'GET', '/load')];
    // The settling routes call a promise's resolve/reject functions, which stay on the server.
    for (const app of [local, remote]) {
      expect((await call(app.url, 'POST', '/ready', { version: 3 })).status).toBe(200);
      expect((await call(app.url, 'POST', '/load/fail', { why: 'no database' })).status).toBe(200);
    }
    const [readyLocal, readyRemote, loadLocal, loadRemote] = await Promise.all(waits);
    expect(readyLocal.body).toBe(JSON.stringify({ ready: { version: 3 } }));
    expect(readyRemote).toEqual(readyLocal);
    expect(loadLocal.body).toBe(JSON.stringify({ loaded: false, error: 'no database' }));
    expect(loadRemote).toEqual(loadLocal);
  });

  it('40 concurrent deposits through #private WeakMaps: a permutation of balances, nothing lost', async () => {
    const before = JSON.parse((await call(remote.url, 'GET', '/acct/bob')).body).balance as number;
    const replies = await Promise.all(Array.from({ length: 40 }, () => call(remote.url, 'POST', '/acct/bob/deposit', { n: 1 })));
    const balances = replies.map((r) => JSON.parse(r.body).balance as number).sort((a, b) => a - b);
    expect(balances).toEqual(Array.from({ length: 40 }, (_, i) => before + i + 1));
    expect(JSON.parse((await call(remote.url, 'GET', '/acct/bob')).body)).toEqual({ balance: before + 40, count: 40 });
  });

  it('counts the offloads: the waits and deposits committed from workers', async () => {
    const stats = await remote.stop();
    const route = (r: string, m = 'GET') => stats.handlers.find((h: { route: string; method: string }) => h.route === r && h.method === m);
    expect(route('/ready').offloaded).toBe(1);
    expect(route('/load').offloaded).toBe(1);
    expect(route('/ready', 'POST').reason).toMatch(/native|cannot/i);
    const dep = route('/acct/:id/deposit', 'POST');
    expect(dep.local + dep.offloaded).toBe(40);
    expect(dep.offloaded).toBeGreaterThanOrEqual(20);
  });
});
