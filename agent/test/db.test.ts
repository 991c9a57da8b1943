import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startProxy, type ProxyHandle } from '../../proxy';
import { usePg } from '../../proxy/test/pg-server';
import { call, startApp, type RunningApp } from './harness';

const APP = path.join(__dirname, 'fixtures/db-app.cjs');
const server = usePg();
const token = 'control-token-0123456789abcdef';

describe('offloaded handlers use PostgreSQL through the proxy', () => {
  let proxy: ProxyHandle;
  let app: RunningApp;
  const markers = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-db-'));
  beforeAll(async () => {
    const db = new pg.Client({ connectionString: server.get().url });
    await db.connect();
    await db.query('CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)');
    await db.end();
    proxy = await startProxy({ upstream: server.get().url, listen: { port: 0 }, maxBackends: 6, control: { port: 0, token } });
    const url = `postgres://${server.get().user}:${server.get().password}@127.0.0.1:${proxy.address.port}/postgres`;
    app = await startApp(APP, {
      // A conflict runs again here, not on a worker: the local re-run after a database hand-off is what is tested.
      BEEHIVE_CONFLICT_RETRIES: '0',
      BEEHIVE_MODE: 'always',
      DATABASE_URL: url,
      BEEHIVE_PROXY_URL: `postgres://127.0.0.1:${proxy.address.port}/postgres`,
      BEEHIVE_PROXY_CONTROL: proxy.controlUrl!,
      BEEHIVE_PROXY_CONTROL_TOKEN: token,
      MARKER_DIR: markers,
    });
  });
  afterAll(async () => {
    await app?.stop();
    await proxy?.close();
  });

  it('a pool: queries run on the worker through a pool grant, results as local', async () => {
    const a = await call(app.url, 'POST', '/notes', { body: 'one' });
    const b = await call(app.url, 'POST', '/notes', { body: 'two' });
    expect([a.status, JSON.parse(a.body)]).toEqual([201, { n: 1, writes: 1 }]);
    expect(JSON.parse(b.body)).toEqual({ n: 2, writes: 2 });
    expect(JSON.parse((await call(app.url, 'GET', '/notes')).body)).toEqual(['one', 'two']);
  });

  it("a client mid-transaction: the worker continues the server's session and commits", async () => {
    const r = await call(app.url, 'POST', '/tx', { body: 'from-worker' });
    expect(JSON.parse(r.body)).toEqual({ sawUncommitted: 1 });
    const s = JSON.parse((await call(app.url, 'GET', '/__state')).body);
    expect(s.rows).toBe(4);
    expect(JSON.parse((await call(app.url, 'GET', '/notes')).body)).toEqual(['one', 'two', 'from-middleware', 'from-worker']);
  });

  it('a worker that committed, then lost its in-memory commit to a conflict, does not write twice', async () => {
    const waiting = new Promise<void>((resolve) => {
      const w = fs.watch(markers, () => {
        w.close();
        resolve();
      });
    });
    const pending = call(app.url, 'POST', '/tx-conflict', { body: 'conflict-handler' });
    await waiting;
    // The worker is inside its transaction: change what its handler read.
    await call(app.url, 'GET', '/__bump');
    const r = await pending;
    expect(JSON.parse(r.body)).toEqual({ where: 'server' });
    const notes = JSON.parse((await call(app.url, 'GET', '/notes')).body) as string[];
    expect(notes.filter((n) => n === 'conflict-handler')).toHaveLength(1);
    expect(notes.filter((n) => n === 'conflict-middleware')).toHaveLength(1);
  });

  it('all of it was offloaded', async () => {
    const stats = await app.stop();
    const by = Object.fromEntries(stats.handlers.map((h: { id: string }) => [h.id, h]));
    expect(by['POST /tx-conflict']).toMatchObject({ offloaded: 0, local: 1, reexecuted: 1 });
    for (const id of ['POST /notes', 'GET /notes', 'POST /tx']) {
      expect({ id, reason: by[id].reason, local: by[id].local, failures: by[id].failures }).toEqual({ id, reason: undefined, local: 0, failures: 0 });
      expect(by[id].offloaded).toBeGreaterThan(0);
    }
  });
});
