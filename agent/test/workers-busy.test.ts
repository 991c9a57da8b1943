/**
 * "Workers busy" on every platform: the local pool reports its processes' states; Lambda and
 * OpenWhisk report none, so the agent counts the invocations in flight. An offloaded request held
 * on a server-side lock keeps one invocation in flight for as long as the test holds the lock.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../infra';
import { call, startApp, type RunningApp } from './harness';

const APP = path.join(__dirname, 'fixtures/gate-app.cjs');
const state = async (app: RunningApp) => JSON.parse((await call(app.url, 'GET', '/__state')).body).agent;

for (const platform of ['local', 'lambda', 'openwhisk'] as const) {
  describe(`workers busy on ${platform}`, () => {
    let faas: TestPlatform | undefined;
    let app: RunningApp;
    beforeAll(async () => {
      if (platform !== 'local') faas = await startTestPlatform(platform);
      app = await startApp(APP, { ...faas?.env, BEEHIVE_MODE: 'always', BEEHIVE_ROUTES: 'GET /work', BEEHIVE_WORKERS: '1', BEEHIVE_QUIET: '1' });
    });
    afterAll(async () => {
      await app?.stop();
      await faas?.close();
    });

    it('counts the invocation in flight as one busy worker, and none once it is done', async () => {
      await call(app.url, 'GET', '/hold');
      const work = call(app.url, 'GET', '/work');
      await expect.poll(async () => (await state(app)).totals.workersBusy, { timeout: 30_000, interval: 50 }).toBe(1);
      if (platform === 'local') expect((await state(app)).workers.filter((w: { state: string }) => w.state === 'busy')).toHaveLength(1);
      await call(app.url, 'GET', '/release');
      const r = await work;
      expect(JSON.parse(r.body)).toEqual({ worked: true });
      await expect.poll(async () => (await state(app)).totals.workersBusy, { timeout: 30_000, interval: 50 }).toBe(0);
      const s = await state(app);
      expect(s.handlers.find((h: { id: string }) => h.id === 'GET /work').offloaded).toBe(1);
      expect(s.totals.invocations).toBeGreaterThanOrEqual(1);
    });
  });
}
