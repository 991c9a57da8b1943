import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../infra';
import { call, startApp, type RunningApp } from './harness';
import { expectSameReplies } from './catalog-runner';

const APP = path.join(__dirname, 'fixtures/callbacks-app.cjs');

type Req = [method: string, path: string];
/** name → requests; each runs against a local app and an offloading one, in the same order. */
const CASES: Array<[string, Req[]]> = [
  ['res.sendFile callback after a file that exists (handler locals, module Map)', [['GET', '/file/one.txt'], ['GET', '/file/report.csv'], ['GET', '/file/one.txt']]],
  ["res.sendFile callback gets Express's ENOENT error for a missing file", [['GET', '/missing']]],
  ['next as the callback: the error handler answers', [['GET', '/missing-next']]],
  ['sendFile with options and a named callback, found and missing', [['GET', '/rooted/one.txt'], ['GET', '/rooted/none.txt']]],
  ['res.render callback with an ejs view', [['GET', '/render/first'], ['GET', '/render/second']]],
  ['res.render callback gets the missing view error', [['GET', '/render-missing']]],
  ['res.download callback, found and missing', [['GET', '/download/report.csv'], ['GET', '/download/nothing.csv']]],
  ["res.on('finish') and res.once('close') listeners", [['GET', '/finish'], ['GET', '/finish']]],
  ['a listener removed with res.off never fires', [['GET', '/off']]],
  ['a listener registered before next() fires when a later handler ends the response', [['GET', '/chain']]],
  ['two callbacks share the variable one of them writes', [['GET', '/shared'], ['GET', '/shared']]],
  ['a callback left after an await', [['GET', '/async']]],
  ['a callback reads a module binding as the server has it when it runs', [['GET', '/greet'], ['POST', '/greeting'], ['GET', '/greet']]],
  ["a module helper's callback", [['GET', '/helper/one.txt'], ['GET', '/helper/gone.txt']]],
  ['refused: a callback made by a package function', [['GET', '/bound']]],
  ["refused: a listener of another response event", [['GET', '/pipe']]],
  ['refused: a callback whose variable holds the response', [['GET', '/holds-res']]],
  ['refused: res.end with a callback', [['GET', '/end-cb']]],
];

/** Handlers that must stay on the server, and the words their reason must contain. */
const REFUSED: Record<string, RegExp> = {
  'GET /bound': /callback of res\.sendFile\(\).*not made by code the server sent/,
  'GET /pipe': /res\.on\('pipe'\) listener/,
  'GET /holds-res': /'ctx' holds the request, the response or next\(\)/,
  'GET /end-cb': /res\.end\(\) with a callback/,
  // It assigns a module binding (refused at capture, as before).
  'POST /greeting': /assigns the captured variable 'greeting'/,
};

/** The callbacks run after the response: wait until both apps' audit logs stop growing the same way. */
async function settledState(url: string): Promise<unknown> {
  return JSON.parse((await call(url, 'GET', '/__state')).body);
}

/** Express 5 and 4 on local workers; Express 5 on the Lambda emulator (the packaged worker). */
const CONFIGS: Array<{ expressPkg: string; platform: 'local' | 'lambda' }> = [
  { expressPkg: 'express', platform: 'local' },
  { expressPkg: 'express4', platform: 'local' },
  { expressPkg: 'express', platform: 'lambda' },
];

for (const { expressPkg, platform } of CONFIGS) {
  describe(`callbacks and listeners left for the response on ${expressPkg}, ${platform} workers: local and offloaded alike`, () => {
    let local: RunningApp;
    let remote: RunningApp;
    let faas: TestPlatform | undefined;
    beforeAll(async () => {
      if (platform !== 'local') faas = await startTestPlatform(platform);
      [local, remote] = await Promise.all([
        startApp(APP, { EXPRESS_PKG: expressPkg, BEEHIVE_MODE: 'off' }),
        startApp(APP, { EXPRESS_PKG: expressPkg, ...faas?.env, BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '2' }),
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
        expect(await settledState(remote.url)).toEqual(await settledState(local.url));
      });
    }

    it('every callback route answered from a worker; the refused ones say why', async () => {
      const state = (await settledState(remote.url)) as { audit: unknown[] };
      // The callbacks did run (on the server) and left their traces.
      expect(state.audit.length).toBeGreaterThan(20);
      remoteStats = await remote.stop();
      expect(remoteStats.platform).toBe(platform);
      for (const h of remoteStats.handlers) {
        if (h.local + h.offloaded === 0) continue;
        if (REFUSED[h.id]) {
          expect(h.reason, h.id).toMatch(REFUSED[h.id]);
          expect(h.offloaded, h.id).toBe(0);
        } else {
          expect({ id: h.id, reason: h.reason, local: h.local, failures: h.failures, reexecuted: h.reexecuted }).toEqual({ id: h.id, reason: undefined, local: 0, failures: 0, reexecuted: 0 });
          expect(h.offloaded, h.id).toBeGreaterThan(0);
        }
      }
      for (const id of Object.keys(REFUSED)) expect(remoteStats.handlers.some((h: any) => h.id === id && h.reason), id).toBe(true);
    });
  });
}
