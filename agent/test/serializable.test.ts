import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, startApp, type HandlerCounters, type RunningApp } from './harness';
import { checkSerializable, type Txn } from './serial-graph';

const APP = path.join(__dirname, 'fixtures/contention-app.cjs');

/** Runs `n` requests with `inFlight` of them outstanding at any time; replies in request order. */
async function pool<T>(n: number, inFlight: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, inFlight) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await one(i);
      }
    }),
  );
  return out;
}


type Handler = HandlerCounters;
async function handler(app: RunningApp, id: string): Promise<Handler> {
  const s = await getJson<{ agent: { handlers: Handler[] } }>(`${app.url}/__state`);
  const h = s.agent.handlers.find((x) => x.id === id)!;
  if (process.env.TEST_VERBOSE && h) {
    const { offloaded, local, conflicts, retried, reexecuted, failures, conflictsByReason } = h;
    console.log(id, JSON.stringify({ offloaded, local, conflicts, retried, reexecuted, failures, conflictsByReason }));
  }
  return h;
}

describe('serializable offloads under contention (always offloaded, 8 local workers)', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '8', BEEHIVE_SHADOW_RUNS: '0' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it.each([
    [16, 0.9],
    [64, 0.8],
  ])('an ~8 ms handler ending in an unlocked counter++: %i in flight return a permutation of 1..N, mostly committed from workers', async (inFlight, share) => {
    const N = 160;
    const before = (await handler(app, 'GET /count'))?.offloaded ?? 0;
    const start = (await getJson<{ site: { views: number } }>(`${app.url}/__state`)).site.views;
    const replies = await pool(N, inFlight, () => getJson<{ v: number; where: string }>(`${app.url}/count?ms=8`));
    const values = replies.map((r) => r.v - start).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    const st = await getJson<{ site: { views: number } }>(`${app.url}/__state`);
    expect(st.site.views - start).toBe(N);
    const h = await handler(app, 'GET /count');
    const committed = h.offloaded - before;
    expect(committed / N, JSON.stringify(h)).toBeGreaterThanOrEqual(share);
    expect(replies.filter((r) => r.where === 'worker').length).toBe(committed);
  });

  it('a contended object reachable by two paths is one object on the worker', async () => {
    const replies = await pool(60, 12, () => getJson<{ same: boolean; n: number; where: string }>(`${app.url}/same?ms=2`));
    expect(replies.every((r) => r.same)).toBe(true);
    expect(replies.map((r) => r.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const h = await handler(app, 'GET /same');
    // It did turn hot (conflicts, then locked at first touch) and the later runs committed from workers.
    expect(h.conflicts).toBeGreaterThan(0);
    expect(replies.filter((r) => r.where === 'worker').length).toBeGreaterThanOrEqual(54);
  });

  it('a hot object is checked on the keys a worker read: the server bumping another key is no conflict', async () => {
    const N = 80;
    const [as, bs] = await Promise.all([
      pool(N, 8, () => getJson<{ v: number; where: string }>(`${app.url}/tally-a?ms=4`)),
      pool(N, 2, () => getJson<{ v: number; where: string }>(`${app.url}/tally-b`)),
    ]);
    expect(as.map((r) => r.v).sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(bs.every((r) => r.where === 'server')).toBe(true);
    const st = await getJson<{ tally: { a: number; b: number } }>(`${app.url}/__state`);
    expect(st.tally).toEqual({ a: N, b: N });
    const h = await handler(app, 'GET /tally-a');
    // The first in-flight wave conflicts (the object is not hot yet); after that, the b++ running
    // beside the workers costs no conflict.
    expect(h.conflicts, JSON.stringify(h)).toBeLessThanOrEqual(16);
    expect(as.filter((r) => r.where === 'worker').length, JSON.stringify(h)).toBeGreaterThanOrEqual(0.9 * N);
  });

  it.each([
    [20, 'a'],
    [100, 'b'],
  ])('write skew: a room of 5 admits exactly 5 of %i concurrent joins', async (n, room) => {
    const replies = await pool(n, n, (i) => getJson<{ admitted: boolean; where: string }>(`${app.url}/join/${room}/${i}?ms=2`));
    const st = await getJson<{ rooms: Record<string, { members: Record<string, true> }> }>(`${app.url}/__state`);
    expect(Object.keys(st.rooms[room].members).length).toBe(5);
    expect(replies.filter((r) => r.admitted).length).toBe(5);
    const h = await handler(app, 'GET /join/:room/:who');
    expect(replies.filter((r) => r.where === 'worker').length, JSON.stringify(h)).toBeGreaterThanOrEqual(n / 2);
  });

  it.each(['/transfer', '/transfer-locked'])('bank transfers both ways through %s keep the sum and never overdraw', async (route) => {
    const st0 = await getJson<{ accounts: Record<string, { balance: number }> }>(`${app.url}/__state`);
    const N = 120;
    const amount = (i: number) => 30 + (i % 5) * 10;
    const replies = await pool(N, 24, (i) => {
      const [from, to] = i % 2 ? ['a', 'b'] : ['b', 'a'];
      return getJson<{ ok: boolean; where: string }>(`${app.url}${route}?from=${from}&to=${to}&amt=${amount(i)}&ms=2`);
    });
    const st = await getJson<{ accounts: Record<string, { balance: number }>; agent: { handlers: Handler[] } }>(`${app.url}/__state`);
    expect(st.accounts.a.balance + st.accounts.b.balance).toBe(st0.accounts.a.balance + st0.accounts.b.balance);
    expect(st.accounts.a.balance).toBeGreaterThanOrEqual(0);
    expect(st.accounts.b.balance).toBeGreaterThanOrEqual(0);
    // Each transfer that said ok moved exactly its amount, and no other did.
    let intoA = 0;
    replies.forEach((r, i) => {
      if (r.ok) intoA += i % 2 ? -amount(i) : amount(i);
    });
    expect(st.accounts.a.balance).toBe(st0.accounts.a.balance + intoA);
    const h = await handler(app, `GET ${route}`);
    expect(replies.filter((r) => r.where === 'worker').length, JSON.stringify(h)).toBeGreaterThanOrEqual(N / 2);
  });
});

describe('a checked history: local and offloaded runs mixed', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(APP, { BEEHIVE_MODE: 'manual', BEEHIVE_RATIO: '0.7', BEEHIVE_WORKERS: '6', BEEHIVE_SHADOW_RUNS: '0' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('a random history of reads and writes over 4 registers is serializable', async () => {
    const N = 240;
    // Deterministic but varied (xorshift): 1–4 operations per transaction, a third of them writes.
    let seed = 0x2545f491;
    const rnd = (k: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % k;
    };
    const plans = Array.from({ length: N }, () => Array.from({ length: 1 + rnd(4) }, () => `${rnd(3) === 0 ? 'w' : 'r'}${rnd(4)}`));
    const txns = await pool(N, 16, async (i) => {
      const r = await getJson<{ ops: Txn['ops']; where: string }>(`${app.url}/txn?id=${i + 1}&ops=${plans[i].join(',')}&ms=0.5`);
      return { id: i + 1, ops: r.ops, where: r.where };
    });
    const st = await getJson<{ registers: number[] }>(`${app.url}/__state`);
    await handler(app, 'GET /txn');
    const verdict = checkSerializable(txns, st.registers);
    expect(verdict.explain).toBe('');
    expect(txns.some((t) => t.where === 'worker')).toBe(true);
    expect(txns.some((t) => t.where === 'server')).toBe(true);
  });
});

describe('a captured variable reassigned elsewhere', () => {
  let app: RunningApp;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-let-'));
    app = await startApp(APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '2', BEEHIVE_SHADOW_RUNS: '0', MARKER_DIR: dir });
  });
  afterAll(async () => {
    await app?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an offload that read a module `let` which a server-side handler then reassigned runs again and sees the new value', async () => {
    const started = new Promise<void>((resolve) => {
      const w = fs.watch(dir, (_e, name) => {
        if (name?.startsWith('tag-')) {
          w.close();
          resolve();
        }
      });
    });
    const pending = getJson<{ m: string; where: string }>(`${app.url}/tag`);
    await started;
    const set = await fetch(`${app.url}/mode/b`, { method: 'POST' });
    expect(((await set.json()) as { where: string }).where).toBe('server');
    fs.writeFileSync(path.join(dir, 'go'), '');
    const r = await pending;
    // As if the handler ran atomically at its commit point: after the reassignment.
    expect(r).toEqual({ m: 'b', where: 'worker' });
    const st = await getJson<{ tagged: Record<string, number> }>(`${app.url}/__state`);
    expect(st.tagged).toEqual({ b: 1 });
    const h = await handler(app, 'GET /tag');
    expect(h).toMatchObject({ offloaded: 1, conflicts: 1, retried: 1, conflictsByReason: { read: 1 } });
  });
});
