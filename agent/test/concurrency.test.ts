import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../infra';
import { startApp, type RunningApp } from './harness';

const APP = path.join(__dirname, 'fixtures/counter-app.cjs');
const N = 200;

async function hammer(url: string, n: number): Promise<number[]> {
  const rs = await Promise.all(Array.from({ length: n }, () => fetch(url).then((r) => r.json() as Promise<{ v: number }>)));
  return rs.map((r) => r.v);
}

const PLATFORMS = ['local', 'lambda', 'openwhisk'] as const;

/** Resolves once the emulated platform has finished `n` invocations (of any kind). */
async function warmUps(faas: TestPlatform, n: number): Promise<void> {
  const done = () => ('reports' in faas.emulator ? faas.emulator.reports.length : faas.emulator.activations.size);
  const event = faas.platform === 'lambda' ? 'report' : 'activation';
  while (done() < n) await once(faas.emulator.events, event);
}

describe.each(PLATFORMS)('concurrent updates, mixing local and offloaded runs (%s workers)', (platform) => {
  let app: RunningApp;
  let faas: TestPlatform | undefined;
  beforeAll(async () => {
    if (platform !== 'local') faas = await startTestPlatform(platform, { concurrency: 2 });
    app = await startApp(APP, { ...faas?.env, BEEHIVE_MODE: 'manual', BEEHIVE_RATIO: '0.5', BEEHIVE_WORKERS: '2', BEEHIVE_SHADOW_RUNS: '0' });
    // The agent warms two instances as it starts. A burst sent while they still start finds both
    // slots taken: every offload of it is throttled, and the back-off it opens lasts into the next
    // test. So the bursts begin once the platform has answered both warm-up invokes.
    if (faas) await warmUps(faas, 2);
  });
  afterAll(async () => {
    await app?.stop();
    await faas?.close();
  });

  /** The server's counters and the handler's stats, read after a test's own burst. */
  async function served(id: string) {
    const state = (await (await fetch(`${app.url}/__state`)).json()) as { stats: Record<string, number>; agent: { handlers: Array<Record<string, any>> } };
    return { stats: state.stats, h: state.agent.handlers.find((x) => x.id === id)! };
  }

  /** Both paths really ran; on the emulators, 200 requests against a concurrency limit of 2 are throttled: those run locally (counted as failures of the offload), which is the point of a throttle. */
  function bothPathsRan(h: Record<string, any>, id: string) {
    expect(h.offloaded + h.reexecuted, id).toBeGreaterThan(0);
    expect(h.local, id).toBeGreaterThan(0);
    if (platform === 'local') expect(h.failures, id).toBe(0);
  }

  it(`${N} increments under beehive.lock lose no update`, async () => {
    const vs = await hammer(`${app.url}/locked`, N);
    expect(new Set(vs).size).toBe(N);
    expect(Math.max(...vs)).toBe(N);
    const { stats, h } = await served('GET /locked');
    expect(stats.locked).toBe(N);
    bothPathsRan(h, 'GET /locked');
    // Under the lock, offloaded runs commit.
    expect(h.offloaded).toBeGreaterThan(0);
  });

  it(`${N} increments with an await inside beehive.lock lose no update`, async () => {
    const vs = await hammer(`${app.url}/async-locked`, N);
    expect(Math.max(...vs)).toBe(N);
    const { stats, h } = await served('GET /async-locked');
    expect(stats.asyncLocked).toBe(N);
    bothPathsRan(h, 'GET /async-locked');
    expect(h.offloaded).toBeGreaterThan(0);
  });

  it(`${N} unsynchronised increments (stats.plain++) lose no update`, async () => {
    const vs = await hammer(`${app.url}/plain`, N);
    // Each response saw a distinct value, as it would locally where the handler is atomic.
    expect(new Set(vs).size).toBe(N);
    const { stats, h } = await served('GET /plain');
    expect(stats.plain).toBe(N);
    // Without the lock, an offloaded run whose commit finds the counter moved is discarded and re-run locally (reexecuted).
    bothPathsRan(h, 'GET /plain');
  });
});

describe.each(PLATFORMS)('a worker killed mid-request (%s workers)', (platform) => {
  let app: RunningApp;
  let faas: TestPlatform | undefined;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-crash-'));
    if (platform !== 'local') faas = await startTestPlatform(platform);
    app = await startApp(APP, { ...faas?.env, BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '1', MARKER_DIR: dir });
  });
  afterAll(async () => {
    await app?.stop();
    await faas?.close();
  });

  it('answers once, from a local re-run, and changes the state once', async () => {
    const busy = new Promise<number>((resolve) => {
      const w = fs.watch(dir, (_ev, name) => {
        if (name && name.startsWith('busy-')) {
          w.close();
          resolve(Number(name.slice(5)));
        }
      });
    });
    const pending = fetch(`${app.url}/slow?spin=1`).then((r) => r.json() as Promise<{ slow: number; pid: string }>);
    const pid = await busy;
    process.kill(pid, 'SIGKILL');
    const body = await pending;
    expect(body).toEqual({ slow: 1, pid: 'server' });
    const state = (await (await fetch(`${app.url}/__state`)).json()) as { stats: Record<string, number>; agent: { handlers: Array<Record<string, any>> } };
    expect(state.stats.slow).toBe(1);
    const h = state.agent.handlers.find((x) => x.id === 'GET /slow')!;
    expect(h.failures).toBe(1);
    expect(h.reexecuted).toBe(1);
    // The pool replaced the dead worker: the next request is offloaded again.
    const again = (await (await fetch(`${app.url}/slow`)).json()) as { slow: number; pid: string };
    expect(again).toEqual({ slow: 2, pid: 'worker' });
  });
});
