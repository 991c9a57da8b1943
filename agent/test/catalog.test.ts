import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../infra';
import { call, startApp, type RunningApp } from './harness';
import { expectSameReplies } from './catalog-runner';

const APP = path.join(__dirname, 'fixtures/catalog-app.cjs');

type Req = [method: string, path: string, body?: unknown, headers?: Record<string, string>];
/** name → requests; each runs against a local app and an offloading one, in the same order. */
const CASES: Array<[string, Req[]]> = [
  ['Map cache: miss then hit', [['GET', '/cache/a'], ['GET', '/cache/a'], ['GET', '/cache/b']]],
  ['Map cache: delete', [['GET', '/cache/z'], ['DELETE', '/cache/z'], ['DELETE', '/cache/z']]],
  ['nested object and array mutation', [['POST', '/profile/alice', { city: 'Bergen', tag: 'b' }], ['POST', '/profile/alice', { city: 'Tromsø', tag: 'c' }]]],
  ['array push and element mutation', [['POST', '/todos', { text: 'second' }], ['POST', '/todos/2/done']]],
  ['array pop', [['POST', '/todos', { text: 'third' }], ['DELETE', '/todos/last']]],
  ['counter', [['GET', '/count'], ['GET', '/count'], ['GET', '/count']]],
  ['class instance method and getter', [['POST', '/accounts/acc1/deposit', { n: 5 }], ['POST', '/accounts/acc1/deposit', { n: 7 }]]],
  ['static factory creating a class instance stored in state', [['POST', '/accounts', { owner: 'bob' }], ['POST', '/accounts/bob/deposit', { n: 1 }]]],
  ['inheritance and overridden methods', [['GET', '/shapes'], ['POST', '/shapes/grow'], ['GET', '/shapes']]],
  ['private fields: read', [['GET', '/vault']]],
  ['private fields: write', [['POST', '/vault/rotate'], ['GET', '/vault']]],
  ['handler made by a factory', [['GET', '/factory/x'], ['GET', '/factory/x'], ['GET', '/factory/y']]],
  ['helpers calling helpers', [['POST', '/helpers', { xs: [1, 2, 3] }]]],
  ['async handler with await', [['GET', '/async/abc'], ['GET', '/async/z']]],
  ['Promise.all', [['GET', '/async-all']]],
  ['thrown error reaches the error handler', [['GET', '/throw']]],
  ['next(err)', [['GET', '/next-error']]],
  ['async error through next', [['GET', '/async-throw']]],
  ['text response', [['GET', '/text']]],
  ['Buffer response', [['GET', '/buffer']]],
  ['headers, set and append', [['GET', '/headers', undefined, { 'x-user': 'u1' }]]],
  ['cookies set, cleared and read', [['GET', '/cookie', undefined, { cookie: 'seen=yes' }]]],
  ['redirect', [['GET', '/redirect']]],
  ['status and JSON', [['GET', '/status']]],
  ['sendStatus', [['GET', '/send-status']]],
  ['statusCode, setHeader and end', [['GET', '/end']]],
  ['res.format', [['GET', '/format', undefined, { accept: 'application/json' }], ['GET', '/format', undefined, { accept: 'text/plain' }]]],
  ['render through the app view engine', [['GET', '/render?name=Bee']]],
  ['sendFile', [['GET', '/file']]],
  ['params, query, path and headers', [['GET', '/params/1/two?x=3&y=four', undefined, { 'user-agent': 't' }]]],
  ['JSON body', [['POST', '/echo-json', { a: [1, { b: null }], s: 'é' }]]],
  ['urlencoded body', [['POST', '/echo-form', 'a=1&b=two']]],
  ['every codec value kind: read', [['GET', '/kinds']]],
  ['every codec value kind: mutate', [['POST', '/kinds/mutate'], ['GET', '/kinds']]],
  ['objects beyond the budget', [['GET', '/big/2500'], ['GET', '/big/2500'], ['GET', '/big/10']]],
  ['node_modules packages required inside the handler', [['GET', '/pkg']]],
  ['relative app module required inside the handler', [['GET', '/rel'], ['GET', '/rel']]],
  ['app module required at the top', [['GET', '/lib'], ['GET', '/rel']]],
  ['req.user from middleware mutated, res.locals, app.locals', [['GET', '/me', undefined, { 'x-user': 'u2' }], ['GET', '/me', undefined, { 'x-user': 'u2' }], ['GET', '/me']]],
  ['class instance in a Map mutated by its method', [['POST', '/users/u1/rename', { name: 'Ulla' }]]],
  ['new class instance stored in a Map', [['POST', '/users', { id: 'u9', name: 'Nine' }], ['GET', '/me', undefined, { 'x-user': 'u9' }]]],
  ['Set add and delete', [['POST', '/tags', { tag: 'blue' }], ['DELETE', '/tags/red']]],
  ['Date mutated in place', [['POST', '/clock'], ['POST', '/clock']]],
  ['Buffer mutated in place', [['POST', '/blob'], ['POST', '/blob']]],
  ['cycles created between state objects', [['POST', '/graph/link']]],
  ['in-place sort', [['POST', '/sort']]],
  ['shared references keep identity', [['POST', '/alias'], ['POST', '/alias']]],
  ['new nested objects with Dates', [['POST', '/nested-new']]],
  ['property delete and array truncation', [['DELETE', '/profile/alice/tags']]],
  ['frozen configuration', [['GET', '/frozen']]],
  ['registered-symbol keys', [['POST', '/symbol'], ['POST', '/symbol']]],
  ['accessor properties', [['POST', '/accessor']]],
  ['process.env is the server view', [['GET', '/env']]],
  ['reassigning a captured let', [['POST', '/let'], ['POST', '/let']]],
  ['beehive.lock', [['POST', '/lock'], ['POST', '/lock']]],
];

/** Handlers that must not be offloaded, and the words their reason must contain. */
const REFUSED: Record<string, RegExp> = {
  'GET /vault': /private/,
  'POST /vault/rotate': /private/,
  'POST /let': /reassigned|captured variable 'reassigned'/,
};

/**
 * Handlers whose runs end in an error (a throw, next() with a server error): never committed from a
 * worker, run again here and compared (agent/offload/6-verify.ts); the local runs agree, so none diverged.
 */
const VERIFIED = new Set(['GET /throw', 'GET /async-throw']);

/** Express 4 and 5 on local workers; Express 5 on the Lambda and OpenWhisk emulators through their official clients. */
const CONFIGS: Array<{ expressPkg: string; platform: 'local' | 'lambda' | 'openwhisk' }> = [
  { expressPkg: 'express', platform: 'local' },
  { expressPkg: 'express4', platform: 'local' },
  { expressPkg: 'express', platform: 'lambda' },
  { expressPkg: 'express', platform: 'openwhisk' },
];

for (const { expressPkg, platform } of CONFIGS) {
  describe(`pattern catalog on ${expressPkg}, ${platform} workers: local and offloaded give the same responses and state`, () => {
    let local: RunningApp;
    let remote: RunningApp;
    let faas: TestPlatform | undefined;
    const env = { EXPRESS_PKG: expressPkg, CATALOG_FLAG: 'on' };
    beforeAll(async () => {
      if (platform !== 'local') faas = await startTestPlatform(platform);
      [local, remote] = await Promise.all([
        startApp(APP, { ...env, BEEHIVE_MODE: 'off' }),
        startApp(APP, { ...env, ...faas?.env, BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '2', BEEHIVE_CLOSURE_BUDGET: '16384' }),
      ]);
    });
    let remoteStats: Record<string, any>;
    afterAll(async () => {
      await local?.stop();
      remoteStats ??= await remote?.stop();
      await faas?.close();
    });

    for (const [name, reqs] of CASES) {
      it(name, async () => {
        await expectSameReplies(local, remote, reqs);
        const sa = await call(local.url, 'GET', '/__state');
        const sb = await call(remote.url, 'GET', '/__state');
        expect(sb.body).toEqual(sa.body);
      });
    }

    it('offloaded every handler it could, and said why for the others', async () => {
      remoteStats = await remote.stop();
      const byId = new Map<string, any>(remoteStats.handlers.map((h: any) => [h.id, h]));
      for (const h of byId.values()) {
        if (REFUSED[h.id]) {
          expect(h.reason, h.id).toMatch(REFUSED[h.id]);
          expect(h.offloaded, h.id).toBe(0);
        } else if (VERIFIED.has(h.id)) {
          expect({ id: h.id, offloaded: h.offloaded, reexecuted: h.reexecuted, diverged: h.diverged, failures: h.failures }).toEqual({ id: h.id, offloaded: 0, reexecuted: h.local, diverged: 0, failures: 0 });
          expect(h.local, h.id).toBeGreaterThan(0);
        } else if (h.local + h.offloaded > 0) {
          expect({ id: h.id, reason: h.reason, local: h.local, failures: h.failures }).toEqual({ id: h.id, reason: undefined, local: 0, failures: 0 });
        }
      }
      expect(remoteStats.mode).toBe('always');
      expect(remoteStats.platform).toBe(platform);
      const big = byId.get('GET /big/:i');
      expect(big.fallbacks).toBeGreaterThan(0);
    });
  });
}
