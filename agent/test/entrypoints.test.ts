import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, startApp } from './harness';

const fixtures = path.join(__dirname, 'fixtures');

describe('entry points and modes', () => {
  it('an ESM app under `node --import beehive/agent` offloads with the same results as local', async () => {
    const run = async (mode: string) => {
      const app = await startApp(path.join(fixtures, 'esm-app.mjs'), { BEEHIVE_MODE: mode }, ['--import', 'beehive/agent']);
      const out = [];
      for (const text of ['a', 'b', 'a']) out.push(await call(app.url, 'POST', '/hash', { text }));
      out.push(await call(app.url, 'GET', '/__state'));
      return { out, stats: await app.stop() };
    };
    const [local, remote] = await Promise.all([run('off'), run('always')]);
    expect(remote.out).toEqual(local.out);
    const h = remote.stats.handlers.find((x: { id: string }) => x.id === 'POST /hash');
    expect(h).toMatchObject({ offloaded: 3, local: 0, failures: 0 });
    expect(h.reason).toBeUndefined();
  });

  it('a CommonJS app under `node -r beehive/agent`, manual mode: only the routes named in BEEHIVE_ROUTES, at the ratio', async () => {
    const app = await startApp(path.join(fixtures, 'mini.cjs'), { BEEHIVE_MODE: 'manual', BEEHIVE_RATIO: '1', BEEHIVE_ROUTES: 'GET /fib/:n', BEEHIVE_SHADOW_RUNS: '0' }, ['-r', 'beehive/agent']);
    for (let i = 0; i < 5; i++) {
      await call(app.url, 'GET', '/hit');
      await call(app.url, 'GET', `/fib/${10 + i}`);
    }
    const stats = await app.stop();
    const by = Object.fromEntries(stats.handlers.map((h: { id: string }) => [h.id, h]));
    expect(stats.mode).toBe('manual');
    expect(stats.ratio).toBe(1);
    expect(by['GET /hit']).toMatchObject({ local: 5, offloaded: 0 });
    expect(by['GET /fib/:n']).toMatchObject({ local: 0, offloaded: 5 });
  });

  it('mode off runs everything locally and still writes the stats file with the documented shape', async () => {
    const app = await startApp(path.join(fixtures, 'mini.cjs'), { BEEHIVE_MODE: 'off' });
    await call(app.url, 'GET', '/hit');
    const stats = await app.stop();
    expect(stats).toMatchObject({ mode: 'off', ratio: 0, platform: 'local', totals: { requests: 1, local: 1, offloaded: 0 } });
    for (const h of stats.handlers) {
      for (const k of ['id', 'method', 'route', 'local', 'offloaded', 'shadow', 'fallbacks', 'failures', 'reexecuted']) expect(h).toHaveProperty(k);
    }
    expect(Array.isArray(stats.workers)).toBe(true);
  });

  it('an app with its own SIGTERM handler still gets its stats file written', async () => {
    const app = await startApp(path.join(fixtures, 'graceful-app.cjs'), { BEEHIVE_MODE: 'off' });
    await call(app.url, 'GET', '/x');
    const stats = await app.stop();
    expect(stats.totals.requests).toBe(1);
    expect(app.child.exitCode).toBe(0);
  });

  it('a bad BEEHIVE_* value stops the app with a message naming the variable', async () => {
    await expect(startApp(path.join(fixtures, 'mini.cjs'), { BEEHIVE_RATIO: '2' })).rejects.toThrow(/exited with 1: beehive: BEEHIVE_ERR_CONFIG_INVALID: invalid configuration: BEEHIVE_RATIO must be a number from 0 to 1, got '2'\n$/);
    await expect(startApp(path.join(fixtures, 'mini.cjs'), { BEEHIVE_WORKERS: 'many' })).rejects.toThrow(/BEEHIVE_WORKERS must be an integer/);
  });
});
