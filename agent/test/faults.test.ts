import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../infra';
import { ROOT, startApp, type RunningApp } from './harness';

/**
 * Fault injection against real worker processes: killed (SIGKILL) or stopped (SIGSTOP) while they
 * start, while they run, while they hold a beehive.lock and just after they released one. Each
 * request is answered once (by the worker or by a local re-run), the state changes once, and the
 * app lives on. Faults are injected when the worker announces itself (a marker file), never after
 * a sleep.
 */

const APP = path.join(__dirname, 'fixtures/counter-app.cjs');

/** Resolves with the pid in the next `<prefix><pid>` file created in `dir`. */
function nextMarker(dir: string, prefix: string): Promise<number> {
  const seen = new Set(fs.readdirSync(dir));
  return new Promise<number>((resolve) => {
    const w = fs.watch(dir, (_ev, name) => {
      if (!name || !name.startsWith(prefix) || seen.has(name) || !fs.existsSync(path.join(dir, name))) return;
      w.close();
      resolve(Number(name.slice(prefix.length)));
    });
  });
}

async function json<T = Record<string, any>>(url: string): Promise<{ status: number; body: T }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as T };
}

async function state(app: RunningApp) {
  return (await json<{ stats: Record<string, number>; agent: { handlers: Array<Record<string, any>>; workers: Array<Record<string, any>> } }>(`${app.url}/__state`)).body;
}

/** Until a request of `route` runs on a worker (a cold start may outlast a short deadline). */
async function warm(app: RunningApp, route: string, field = 'pid'): Promise<void> {
  for (let i = 0; i < 30; i++) if ((await json(`${app.url}${route}`)).body[field] === 'worker') return;
  throw new Error(`${route} never ran on a worker`);
}

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The start gate, copied where the path names no package (workers keep non-beehive preloads). */
function gate(): { dir: string; env: Record<string, string> } {
  const dir = tmp('bh-gate-');
  const file = path.join(dir, 'start-gate.cjs');
  fs.copyFileSync(path.join(__dirname, 'fixtures/start-gate.cjs'), file);
  return { dir, env: { GATE_DIR: dir, NODE_OPTIONS: `--require ${file}` } };
}

function kill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/**
 * Brings the pool to no worker at all, with the exit seen by the app, and new workers held at the
 * gate: the warm worker is killed mid-request (the app answers that request only once it has seen
 * the exit), then the gate closes.
 */
async function emptyPoolAndHold(app: RunningApp, g: { dir: string }, markers: string): Promise<void> {
  await warm(app, '/slow');
  const busy = nextMarker(markers, 'busy-');
  const pending = json(`${app.url}/slow?spin=1`);
  const pid = await busy;
  fs.writeFileSync(path.join(g.dir, 'hold'), '');
  kill(pid, 'SIGKILL');
  expect((await pending).body.pid).toBe('server');
}

describe('a local worker killed while it starts', () => {
  let app: RunningApp;
  const g = gate();
  const markers = tmp('bh-markers-');
  beforeAll(async () => {
    // A deadline longer than the test's own timeout: only noticing the death can answer in time.
    app = await startApp(APP, { ...g.env, MARKER_DIR: markers, BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '1', BEEHIVE_TIMEOUT_MS: '600000' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('answers the waiting request by a local run at once, and the next request gets a fresh worker', async () => {
    await emptyPoolAndHold(app, g, markers);
    const before = (await state(app)).stats.slow;
    const starting = nextMarker(g.dir, 'starting-');
    const pending = json(`${app.url}/slow`);
    kill(await starting, 'SIGKILL');
    expect(await pending).toEqual({ status: 200, body: { slow: before + 1, pid: 'server' } });
    fs.rmSync(path.join(g.dir, 'hold'));
    expect((await json(`${app.url}/slow`)).body).toEqual({ slow: before + 2, pid: 'worker' });
    expect(app.child.exitCode).toBeNull();
  });
});

describe('a local worker stopped while it starts', () => {
  let app: RunningApp;
  const g = gate();
  const markers = tmp('bh-markers-');
  let stopped = 0;
  beforeAll(async () => {
    app = await startApp(APP, { ...g.env, MARKER_DIR: markers, BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '1', BEEHIVE_TIMEOUT_MS: '3000' });
  });
  afterAll(async () => {
    if (stopped) kill(stopped, 'SIGKILL');
    fs.rmSync(path.join(g.dir, 'hold'), { force: true });
    await app?.stop();
  });

  it('answers the request by a local re-run at its deadline; the app keeps answering', async () => {
    await emptyPoolAndHold(app, g, markers);
    const before = (await state(app)).stats.slow;
    const starting = nextMarker(g.dir, 'starting-');
    const pending = json(`${app.url}/slow`);
    stopped = await starting;
    kill(stopped, 'SIGSTOP');
    expect(await pending).toEqual({ status: 200, body: { slow: before + 1, pid: 'server' } });
    // The stopped start holds the only slot: the next request waits its deadline and runs here too.
    expect((await json(`${app.url}/slow`)).body).toEqual({ slow: before + 2, pid: 'server' });
    expect((await state(app)).stats.slow).toBe(before + 2);
    expect(app.child.exitCode).toBeNull();
  });
});

describe('local workers killed or stopped mid-invocation, and holding beehive.lock', () => {
  let app: RunningApp;
  const dir = tmp('bh-faults-');
  const stopped: number[] = [];
  beforeAll(async () => {
    app = await startApp(APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '1', BEEHIVE_TIMEOUT_MS: '5000', MARKER_DIR: dir });
  });
  afterAll(async () => {
    for (const pid of stopped) kill(pid, 'SIGKILL');
    await app?.stop();
  });

  it('SIGSTOP mid-invocation: answered once by a local re-run at the deadline, state changed once', async () => {
    await warm(app, '/slow');
    const before = (await state(app)).stats.slow;
    const busy = nextMarker(dir, 'busy-');
    const pending = json(`${app.url}/slow?spin=1`);
    const pid = await busy;
    stopped.push(pid);
    kill(pid, 'SIGSTOP');
    expect(await pending).toEqual({ status: 200, body: { slow: before + 1, pid: 'server' } });
    expect((await state(app)).stats.slow).toBe(before + 1);
  });

  it.each(['SIGKILL', 'SIGSTOP'] as const)('%s while holding beehive.lock: the key is freed, the local re-run takes it, the count is exact', async (sig) => {
    await warm(app, '/lock-hold');
    const before = (await state(app)).stats.held;
    const busy = nextMarker(dir, 'busy-');
    const pending = json(`${app.url}/lock-hold?spin=1`);
    const pid = await busy;
    if (sig === 'SIGSTOP') stopped.push(pid);
    kill(pid, sig);
    expect(await pending).toEqual({ status: 200, body: { held: before + 1, pid: 'server' } });
    // The next lock on the key proceeds (offloaded or local alike).
    expect((await json(`${app.url}/lock-hold`)).body.held).toBe(before + 2);
    expect((await state(app)).stats.held).toBe(before + 2);
  });

  it('SIGKILL just after its lock release was accepted: the release is discarded, the count applied once', async () => {
    await warm(app, '/lock-then-spin');
    const before = (await state(app)).stats.released;
    const busy = nextMarker(dir, 'busy-');
    const pending = json(`${app.url}/lock-then-spin?spin=1`);
    kill(await busy, 'SIGKILL');
    expect(await pending).toEqual({ status: 200, body: { released: before + 1, pid: 'server' } });
    expect((await state(app)).stats.released).toBe(before + 1);
  });

  it('keeps what a handler changed before beehive.lock, exactly once, under concurrency', async () => {
    await warm(app, '/before-lock');
    const before = (await state(app)).stats;
    const n = 40;
    const rs = await Promise.all(Array.from({ length: n }, () => json(`${app.url}/before-lock`)));
    expect(new Set(rs.map((r) => r.body.inLock)).size).toBe(n);
    const after = (await state(app)).stats;
    expect(after.beforeLock - before.beforeLock).toBe(n);
    expect(after.inLock - before.inLock).toBe(n);
    const h = (await state(app)).agent.handlers.find((x) => x.id === 'GET /before-lock')!;
    expect(h.offloaded).toBeGreaterThan(1);
  });

  it('keeps the app alive and offloading after all of the above', async () => {
    await warm(app, '/slow');
    expect(app.child.exitCode).toBeNull();
    expect(app.stderr()).not.toMatch(/ERR_IPC_CHANNEL_CLOSED|EPIPE|UnhandledPromiseRejection|ERR_HTTP_HEADERS_SENT/);
  });
});

describe.each(['lambda', 'openwhisk'] as const)('a FaaS worker stopped mid-invocation (%s emulator)', (platform) => {
  let app: RunningApp;
  let faas: TestPlatform;
  const dir = tmp('bh-faas-');
  let stopped = 0;
  beforeAll(async () => {
    faas = await startTestPlatform(platform);
    app = await startApp(APP, { ...faas.env, BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '1', BEEHIVE_TIMEOUT_MS: '5000', MARKER_DIR: dir });
  });
  afterAll(async () => {
    if (stopped) kill(stopped, 'SIGKILL');
    await app?.stop();
    await faas?.close();
  });

  it('answers once by a local re-run at the deadline, state changed once', async () => {
    await warm(app, '/slow');
    const before = (await state(app)).stats.slow;
    const busy = nextMarker(dir, 'busy-');
    const pending = json(`${app.url}/slow?spin=1`);
    stopped = await busy;
    kill(stopped, 'SIGSTOP');
    expect(await pending).toEqual({ status: 200, body: { slow: before + 1, pid: 'server' } });
    expect((await state(app)).stats.slow).toBe(before + 1);
    expect(app.child.exitCode).toBeNull();
  });
});

describe('a worker whose channel is lost', () => {
  let app: RunningApp;
  let closedPort: number;
  beforeAll(async () => {
    // A port nobody listens on: every channel call of the workers fails to connect.
    const srv = net.createServer().listen(0, '127.0.0.1');
    await once(srv, 'listening');
    closedPort = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    app = await startApp(APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '1', BEEHIVE_CALLBACK_URL: `ws://127.0.0.1:${closedPort}` });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('does not commit an outcome built on a failed channel call the handler swallowed: it re-runs locally', async () => {
    const r = await json(`${app.url}/lock-or-guess`);
    expect(r.body).toEqual({ how: 'locked', pid: 'server' });
    const h = (await state(app)).agent.handlers.find((x) => x.id === 'GET /lock-or-guess')!;
    expect(h.reexecuted).toBe(1);
    expect((await state(app)).stats.locked).toBe(1);
  });
});

describe.each([
  ['express', 5],
  ['express4', 4],
])('an async handler whose local re-run rejects (%s)', (pkg) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(APP, { EXPRESS_PKG: pkg, BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '1' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("reaches the app's error handler, with exactly one response, and the app lives on", async () => {
    // The worker dies running it; the local re-run rejects.
    const r = await json(`${app.url}/reject-local`);
    expect(r).toEqual({ status: 500, body: { error: 'rejected on the server', handledBy: 'app' } });
    const again = await json(`${app.url}/reject-local`);
    expect(again.status).toBe(500);
    const s = await state(app);
    expect(s.stats.rejected).toBe(2);
    expect(app.child.exitCode).toBeNull();
    expect(app.stderr()).not.toMatch(/UnhandledPromiseRejection|ERR_HTTP_HEADERS_SENT/);
  });
});

describe('the local pool sending to a worker that has just died', () => {
  it('fails that invocation with a coded crash (no ERR_IPC_CHANNEL_CLOSED/EPIPE thrown) and starts a fresh worker', async () => {
    // From dist: the pool forks dist/offload-worker/local-entry.js next to it.
    const { LocalProvider } = require(path.join(ROOT, 'dist/agent/providers/local.js')) as typeof import('../providers/local');
    const pool = new LocalProvider({ workers: 1 });
    try {
      await pool.prewarm(1);
      const [pid] = pool.pids();
      process.kill(pid, 'SIGKILL');
      // Dead but not yet reaped: the pool cannot have seen the exit (the event loop has not turned).
      while (!/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')));
      const bogus = {} as never;
      await expect(pool.invoke(bogus, { timeoutMs: 600_000 })).rejects.toMatchObject({ kind: 'crash', code: expect.stringMatching(/^BEEHIVE_ERR_LOCAL_(SEND|CRASH)$/) });
      // A fresh worker answers the next invocation (a malformed event: it says so, coded).
      const next = await pool.invoke(bogus, { timeoutMs: 600_000 });
      expect(next.ok).toBe(false);
      expect(next.error?.code).toBe('BEEHIVE_ERR_WORKER_BAD_EVENT');
      expect(pool.pids()).not.toContain(pid);
    } finally {
      await pool.close();
    }
  });
});
