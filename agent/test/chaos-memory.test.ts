import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp, seededRandom } from './harness';

/**
 * The chaos drill (memory only; the database rows are the proxy's part): a few hundred requests,
 * 8 in flight, against three local workers while random workers are SIGKILLed or SIGSTOPped as
 * they start, run and hold a beehive.lock. Every request is answered once with a 2xx, every change
 * lands exactly once, the app lives on. Faults land on events the workers announce (marker files),
 * chosen by a seeded generator.
 */

const APP = path.join(__dirname, 'fixtures/counter-app.cjs');
const N = 150;
const IN_FLIGHT = 8;

const rng = seededRandom;

async function drive(app: RunningApp, n: number): Promise<Array<{ id: string; status: number; body: any }>> {
  const out: Array<{ id: string; status: number; body: any }> = [];
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const id = `r${next++}`;
      const r = await fetch(`${app.url}/chaos?id=${id}`);
      out.push({ id, status: r.status, body: await r.json() });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return out;
}

function checkExactlyOnce(results: Array<{ id: string; status: number; body: any }>, chaos: { count: number; ids: string[] }, n: number, drill = 'no faults'): void {
  expect(results.length, drill).toBe(n);
  for (const r of results) {
    expect(r.status, `${r.id} ${JSON.stringify(r.body)} (${drill})`).toBe(200);
    expect(r.body.id).toBe(r.id);
  }
  expect(chaos.count, drill).toBe(n);
  expect(chaos.ids.length, drill).toBe(n);
  expect(new Set(chaos.ids).size, drill).toBe(n);
  expect([...chaos.ids].sort()).toEqual(results.map((r) => r.id).sort());
}

describe('chaos: workers killed and stopped while starting, running and holding beehive.lock', () => {
  let app: RunningApp;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-chaos-'));
  const preload = path.join(dir, 'start-mark.cjs');
  const seed = Number(process.env.CHAOS_SEED ?? 0x5eed);
  const random = rng(seed);
  const faults = { starting: 0, busy: 0, lock: 0, kills: 0, stops: 0 };
  const stopped: number[] = [];
  let watcher: fs.FSWatcher | undefined;

  beforeAll(async () => {
    fs.copyFileSync(path.join(__dirname, 'fixtures/start-mark.cjs'), preload);
    app = await startApp(APP, {
      CHAOS_DIR: dir,
      NODE_OPTIONS: `--require ${preload}`,
      BEEHIVE_MODE: 'always',
      BEEHIVE_WORKERS: '3',
      BEEHIVE_TIMEOUT_MS: '3000',
    });
  });
  afterAll(async () => {
    watcher?.close();
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await app?.stop();
  });

  it(`answers ${N} requests once each with a 2xx and applies each change exactly once (seed ${seed})`, async () => {
    const seen = new Set<string>();
    let stoppedStarting = false;
    // Per kind of event: [kill probability, stop probability]; stops are few (each costs a deadline).
    const odds: Record<string, [number, number]> = { starting: [0.3, 0.05], busy: [0.04, 0.01], lock: [0.07, 0.02] };
    watcher = fs.watch(dir, (_ev, name) => {
      const m = name && /^(starting|busy|lock)-(\d+)-[0-9a-z]+$/.exec(name);
      if (!m || seen.has(name!)) return;
      seen.add(name!);
      const [, kind, pidText] = m;
      const pid = Number(pidText);
      const [pk, ps] = odds[kind];
      const x = random();
      let sig: NodeJS.Signals | undefined;
      if (x < pk) sig = 'SIGKILL';
      else if (x < pk + ps && faults.stops < 3 && !(kind === 'starting' && stoppedStarting)) sig = 'SIGSTOP';
      if (!sig) return;
      try {
        process.kill(pid, sig);
      } catch {
        return;
      }
      faults[kind as 'starting' | 'busy' | 'lock']++;
      if (sig === 'SIGKILL') faults.kills++;
      else {
        faults.stops++;
        stopped.push(pid);
        // A stopped start holds its slot until the pool's start timeout: one is enough.
        if (kind === 'starting') stoppedStarting = true;
      }
    });
    const results = await drive(app, N);
    watcher.close();
    const chaos = (await (await fetch(`${app.url}/__chaos`)).json()) as { count: number; ids: string[] };
    const drill = `seed ${seed}, faults ${JSON.stringify(faults)}`;
    checkExactlyOnce(results, chaos, N, drill);
    // The drill really injected faults where it says it does.
    expect(faults.kills, drill).toBeGreaterThan(5);
    expect(faults.lock, drill).toBeGreaterThan(0);
    expect(faults.starting, drill).toBeGreaterThan(0);
    expect(app.child.exitCode).toBeNull();
    expect(app.stderr()).not.toMatch(/ERR_IPC_CHANNEL_CLOSED|EPIPE|UnhandledPromiseRejection|ERR_HTTP_HEADERS_SENT/);
    // Some requests ran on workers, some were re-run here.
    const byPid = results.reduce((m, r) => ((m[r.body.pid] = (m[r.body.pid] ?? 0) + 1), m), {} as Record<string, number>);
    expect(byPid.worker, drill).toBeGreaterThan(0);
    expect(byPid.server, drill).toBeGreaterThan(0);
    // Alone it takes well under a minute; the suite runs files side by side on two cores.
  }, 180_000);
});

describe('no faults: 8 in flight, zero duplicates', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '3' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it(`answers ${N} requests once each and applies each change exactly once`, async () => {
    const results = await drive(app, N);
    const chaos = (await (await fetch(`${app.url}/__chaos`)).json()) as { count: number; ids: string[] };
    checkExactlyOnce(results, chaos, N);
    const h = ((await (await fetch(`${app.url}/__state`)).json()) as { agent: { handlers: Array<Record<string, number | string>> } }).agent.handlers.find((x) => x.id === 'GET /chaos')!;
    expect(h.offloaded as number).toBeGreaterThan(0);
    expect(h.failures).toBe(0);
  });
});
