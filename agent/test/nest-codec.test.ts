import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, startApp } from './harness';

const APP = path.join(__dirname, 'fixtures/nest-codec-app.cjs');

describe('NestJS controller methods whose values need the closed-world codec', () => {
  it('super in a method, an arrow field using this, a symbol-keyed field, 0n and WeakMap privacy are offloaded', async () => {
    const script: Array<[string, string]> = [
      ['GET', '/units/list'],
      ['GET', '/units/format/2.34'],
      ['POST', '/units/bump/5'],
      ['POST', '/units/bump/7'],
      ['POST', '/units/deposit/3'],
      ['POST', '/units/deposit/4'],
      ['GET', '/units/-/state'],
    ];
    const run = async (mode: string) => {
      const app = await startApp(APP, { BEEHIVE_MODE: mode });
      const out = [];
      for (const [m, p] of script) {
        const r = await call(app.url, m, p);
        out.push({ status: r.status, body: r.body });
      }
      return { out, stats: await app.stop() };
    };
    const [local, remote] = await Promise.all([run('off'), run('always')]);
    expect(remote.out).toEqual(local.out);
    expect(local.out[0].body).toBe('["base","derived"]');
    const by = Object.fromEntries(remote.stats.handlers.map((h: { id: string }) => [h.id, h]));
    for (const id of ['GET /units/list', 'GET /units/format/:n', 'POST /units/bump/:n']) {
      expect({ id, reason: by[id].reason, local: by[id].local, failures: by[id].failures }).toEqual({ id, reason: undefined, local: 0, failures: 0 });
      expect(by[id].offloaded, id).toBeGreaterThan(0);
    }
    // Privacy through a module-level WeakMap: the map stays on the server, the worker's reads of
    // its entries are answered there and its writes applied at the commit (offload-worker/remote-weak.ts).
    expect({ reason: by['POST /units/deposit/:n'].reason, local: by['POST /units/deposit/:n'].local }).toEqual({ reason: undefined, local: 0 });
    expect(by['POST /units/deposit/:n'].offloaded).toBe(2);
  });
});
