import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { ExportTable } from '../../gc';
import { captureClosure } from '../capture/closure';
import { encodeFunction, functionInfo, hasFunctionInfo } from '../capture/function-record';
import { prepareCapture, Preparer } from '../capture/prepare';

// Captures made ahead of a handler's first request (agent/capture/prepare.ts): they must warm the
// caches and leave nothing else behind — no export-table entry, no proxy call, no cached value
// that a later capture would ship in place of the real one.

// App code lives outside the product's folder (the product's own functions are never shipped as code).
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-prepare-'));
fs.writeFileSync(
  path.join(dir, 'handlers.cjs'),
  `const pg = require(${JSON.stringify(require.resolve('pg'))});
const counts = new Map();
const helper = (k) => (counts.get(k) ?? 0) + 1;
exports.counts = counts;
exports.helper = helper;
exports.handler = (req, res) => {
  counts.set(req.params.id, helper(req.params.id));
  res.json({ n: counts.get(req.params.id) });
};
let hits = 0;
exports.writes = () => {
  hits++;
};
exports.hits = () => hits;
// Port 1: a connection attempt would fail loudly.
const pool = new pg.Pool({ host: '127.0.0.1', port: 1, max: 1 });
exports.pool = pool;
exports.pooled = async (_req, res) => res.json((await pool.query('select 1')).rows);
const rows = Array.from({ length: 20000 }, (_, i) => ({ id: i, name: 'row ' + i }));
exports.row = (req, res) => res.json(rows[Number(req.params.i)]);
exports.rowAgain = (req, res) => res.json(rows[Number(req.params.i) + 1]);
let packs = 0;
const packed = { [Symbol.for('beehive.pack')]() { packs++; return { unpacker: 'app', record: {} }; } };
exports.packs = () => packs;
exports.usesPacked = (req, res) => res.json(packed);
exports.first = function first() { return counts.size; };
exports.second = function second() { return helper('x'); };
exports.captured = function captured() { return 3; };
exports.fresh = function fresh() { return 4; };
exports.notPrepared = function notPrepared() { return 5; };
exports.closedOut = function closedOut() { return 6; };
`,
);
const app = createRequire(__filename)(path.join(dir, 'handlers.cjs')) as Record<string, any>;

describe('prepared captures', () => {
  it('analyses the handler and what it reaches, and holds nothing afterwards', () => {
    const table = new ExportTable();
    const { counts, helper, handler } = app;
    expect(hasFunctionInfo(handler)).toBe(false);
    expect(prepareCapture(handler, () => table.lease(), 64 * 1024)).toEqual({ ok: true, replanned: undefined });
    expect(hasFunctionInfo(handler)).toBe(true);
    expect(hasFunctionInfo(helper)).toBe(true);
    expect(table.size).toBe(0);
    // What the next capture ships is read then: the same Map, with what it holds then.
    counts.set('a', 41);
    const vars = (encodeFunction(handler, functionInfo(handler)).data as { vars: Record<string, unknown> }).vars;
    expect(vars.counts).toBe(counts);
    const lease = table.lease();
    expect(captureClosure({ handler }, { lease, budget: 64 * 1024 }).objects).toBeGreaterThan(0);
    lease.release();
  });

  it('reports a refusal as false without throwing', () => {
    const table = new ExportTable();
    expect(prepareCapture(app.writes, () => table.lease(), 64 * 1024).ok).toBe(false);
    expect(app.hits()).toBe(0);
    expect(table.size).toBe(0);
  });

  it('passes a pg pool without connecting it or asking a proxy', () => {
    const table = new ExportTable();
    expect(prepareCapture(app.pooled, () => table.lease(), 64 * 1024).ok).toBe(true);
    expect(hasFunctionInfo(app.pooled)).toBe(true);
    expect((app.pool as pg.Pool).totalCount).toBe(0);
    expect(table.size).toBe(0);
  });

  it('tells whether the closure fits the budget, so that requests plan it from the first', async () => {
    const table = new ExportTable();
    expect(prepareCapture(app.row, () => table.lease(), 64 * 1024)).toEqual({ ok: true, replanned: true });
    expect(table.size).toBe(0);
    const told: string[] = [];
    await new Promise<void>((resolve) => {
      const p = new Preparer({ lease: () => table.lease(), budget: 64 * 1024, delayMs: 0, onIdle: resolve });
      p.add(app.rowAgain, 'row', () => told.push('row'));
      p.add(app.helper, 'helper', () => told.push('helper'));
    });
    expect(told).toEqual(['row']);
  });

  it("never calls an app's own packer", () => {
    const table = new ExportTable();
    expect(prepareCapture(app.usesPacked, () => table.lease(), 64 * 1024).ok).toBe(true);
    expect(app.packs()).toBe(0);
    expect(table.size).toBe(0);
  });

  it('keeps no value for a binding in its temporal dead zone', async () => {
    const handler = () => later.size;
    // Read while `later` is uninitialised: the inspector reports undefined.
    const info = functionInfo(handler);
    expect(info.volatile.has('later')).toBe(true);
    await Promise.resolve();
    const later = new Map([[1, 2]]);
    const vars = (encodeFunction(handler, info).data as { vars: Record<string, unknown> }).vars;
    expect(vars.later).toBe(later);
  });
});

describe('Preparer', () => {
  const table = new ExportTable();

  function run(fns: Function[], o: { maxTotalMs?: number } = {}): Promise<string[]> {
    const done: string[] = [];
    return new Promise((resolve) => {
      const p = new Preparer({ lease: () => table.lease(), budget: 64 * 1024, delayMs: 0, ...o, onPrepared: (label) => done.push(label), onIdle: () => resolve(done) });
      for (const f of fns) p.add(f);
    });
  }

  it('prepares each handler once, in registration order', async () => {
    const { first: a, second: b } = app;
    expect(await run([a, b, a])).toEqual(['first', 'second']);
    expect(hasFunctionInfo(a) && hasFunctionInfo(b) && hasFunctionInfo(app.helper)).toBe(true);
  });

  it('skips a handler a request already captured', async () => {
    const { captured: seen, fresh: other } = app;
    functionInfo(seen);
    expect(await run([seen, other])).toEqual(['fresh']);
  });

  it('stops at its CPU allowance', async () => {
    const c = app.notPrepared;
    expect(await run([c], { maxTotalMs: 0 })).toEqual([]);
    expect(hasFunctionInfo(c)).toBe(false);
  });

  it('does nothing once closed', async () => {
    const d = app.closedOut;
    const p = new Preparer({ lease: () => table.lease(), budget: 64 * 1024, delayMs: 0, onIdle: () => expect.unreachable('no step after close') });
    p.add(d);
    p.close();
    p.add(d);
    // Timers of one duration fire in the order they were set: had close() left the preparer's
    // timer, it would have fired before this one.
    await new Promise((r) => setTimeout(r, 0));
    expect(hasFunctionInfo(d)).toBe(false);
  });
});
