import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, startApp } from './harness';

const APP = path.join(__dirname, 'fixtures/nest-codec-app.cjs');

describe('NestJS controller methods whose values need the closed-world codec', () => {
  it('super in a method, an arrow field using this, a symbol-keyed field and 0n are offloaded; WeakMap privacy is refused with its reason', async () => {
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
    expect(by['POST /units/deposit/:n'].reason).toMatch(/WeakMap/);
    // The refusal names the captured variable, the method and its line, and why it stays here.
    const line = fs.readFileSync(APP, 'utf8').split('\n').findIndex((l) => /^\s*deposit\(n\) \{/.test(l)) + 1;
    expect(by['POST /units/deposit/:n'].reason).toContain(`the captured variable 'balances' of deposit, ${APP}:${line}`);
    expect(by['POST /units/deposit/:n'].reason).toMatch(/could not be written back; it runs on the server/);
    expect(by['POST /units/deposit/:n'].offloaded).toBe(0);
  });
});
