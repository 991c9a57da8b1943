/**
 * End to end: an Express app under the agent offloads to the real worker runtime on the Lambda
 * and OpenWhisk emulators through the official clients; faults (unknown function, platform
 * timeout, throttle) make the request run locally, answered once, with the server state right.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { startTestPlatform, type TestPlatform } from '../../../infra/index';

const ROOT = path.resolve(__dirname, '../../..');
const APP = path.join(__dirname, 'fixtures', 'counter-app.cjs');

async function startApp(env: Record<string, string>) {
  const statsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bh-e2e-')), 'stats.json');
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'dist/agent/register.js'), APP], {
    env: { ...process.env, BEEHIVE_MODE: 'always', BEEHIVE_STATS_FILE: statsFile, BEEHIVE_APP_ROOT: ROOT, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const [line] = await Promise.race([once(readline.createInterface({ input: child.stdout! }), 'line'), once(child, 'exit').then(() => Promise.reject(new Error(stderr)))]);
  const base = `http://127.0.0.1:${JSON.parse(line as string).port}`;
  return {
    child,
    get: async (p: string) => (await fetch(base + p)).json(),
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(fs.readFileSync(statsFile, 'utf8'));
    },
  };
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(platform: 'lambda' | 'openwhisk', opts = {}, env: Record<string, string> = {}) {
  const p: TestPlatform = await startTestPlatform(platform, opts);
  cleanup.push(() => p.close());
  const app = await startApp({ ...p.env, ...env });
  cleanup.push(async () => app.child.exitCode === null && app.child.kill('SIGKILL'));
  return { p, app };
}

const handler = (stats: any, route: string) => stats.handlers.find((h: any) => h.route === route);

describe.each(['lambda', 'openwhisk'] as const)('offloading to %s through its emulator', (platform) => {
  it('runs handlers on the worker against the server state', async () => {
    const { app } = await setup(platform);
    expect(await app.get('/hit')).toEqual({ hits: 1 });
    expect(await app.get('/hit')).toEqual({ hits: 2 });
    expect(await app.get('/fib/15')).toEqual({ n: 15, v: 610, size: 1 });
    expect(await app.get('/fib/15')).toEqual({ n: 15, v: 610, size: 1 });
    expect(await app.get('/__state')).toEqual({ hits: 2, cache: [[15, 610]] });
    const stats = await app.stop();
    expect(stats.platform).toBe(platform);
    expect(handler(stats, '/hit')).toMatchObject({ offloaded: 2, failures: 0 });
    expect(handler(stats, '/fib/:n')).toMatchObject({ offloaded: 2, failures: 0 });
  });
});

describe('faults re-run the request locally, answered once', () => {
  it('unknown function (NOT_FOUND)', async () => {
    const { app } = await setup('lambda', {}, { BEEHIVE_LAMBDA_FUNCTION: 'no-such-function' });
    expect(await app.get('/hit')).toEqual({ hits: 1 });
    expect(await app.get('/hit')).toEqual({ hits: 2 });
    expect(handler(await app.stop(), '/hit')).toMatchObject({ offloaded: 0, reexecuted: 2 });
  });

  it('platform timeout (Task timed out): the worker is discarded, the server state stays right', async () => {
    const { app } = await setup('lambda', { timeoutS: 0.001 });
    expect(await app.get('/hit')).toEqual({ hits: 1 });
    expect(await app.get('/hit')).toEqual({ hits: 2 });
    expect(handler(await app.stop(), '/hit')).toMatchObject({ offloaded: 0, reexecuted: 2 });
  });

  it('throttle at the concurrency limit (OpenWhisk 429)', async () => {
    const { app } = await setup('openwhisk', { concurrency: 1 });
    const replies = await Promise.all(Array.from({ length: 6 }, () => app.get('/hit')));
    expect(replies.map((r: any) => r.hits).sort((a: number, b: number) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    const h = handler(await app.stop(), '/hit');
    expect(h.offloaded + h.reexecuted).toBe(6);
  });
});
