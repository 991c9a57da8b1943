import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, startApp } from './harness';

const APP = path.join(__dirname, 'fixtures/nest-app.cjs');

describe('NestJS on Express: controller methods offloaded with their injected services', () => {
  it('gives the same responses and leaves the same state as local; guards stay on the server', async () => {
    const script: Array<[string, string, unknown?, Record<string, string>?]> = [
      ['GET', '/inventory/apple'],
      ['GET', '/inventory/pear'],
      ['POST', '/inventory/pear', { qty: 2 }, { 'x-key': 'secret' }],
      ['POST', '/inventory/pear', { qty: 5 }, { 'x-key': 'wrong' }],
      ['POST', '/inventory/apple', { qty: 1 }, { 'x-key': 'secret' }],
      ['GET', '/inventory/pear'],
      ['GET', '/inventory/-/state'],
    ];
    const run = async (mode: string) => {
      const app = await startApp(APP, { BEEHIVE_MODE: mode });
      const out = [];
      for (const [m, p, body, headers] of script) {
        const r = await call(app.url, m, p, body, headers);
        out.push({ status: r.status, body: r.body });
      }
      return { out, stats: await app.stop() };
    };
    const [local, remote] = await Promise.all([run('off'), run('always')]);
    expect(remote.out).toEqual(local.out);
    expect(local.out.map((o) => o.status)).toEqual([200, 404, 201, 403, 201, 200, 200]);
    const by = Object.fromEntries(remote.stats.handlers.map((h: { id: string }) => [h.id, h]));
    expect(Object.keys(by).sort()).toEqual(['GET /inventory/-/state', 'GET /inventory/:name', 'POST /inventory/:name']);
    for (const id of ['GET /inventory/:name', 'POST /inventory/:name']) {
      expect(by[id]).toMatchObject({ failures: 0, diverged: 0 });
      expect(by[id].reason).toBeUndefined();
    }
    // The 404 (a thrown NotFoundException) is verified: discarded on the worker, run here once.
    expect(by['GET /inventory/:name']).toMatchObject({ offloaded: 2, local: 1, reexecuted: 1 });
    expect(by['POST /inventory/:name'].local).toBe(0);
    // The guard refused one POST on the server: the method never ran for it.
    expect(by['POST /inventory/:name'].offloaded).toBe(2);
  });
});
