import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, startApp } from './harness';
import { buildNestFixture } from './nest-build';

/**
 * Refusals of Nest controller methods: each names the one value that causes it and where it is,
 * and refuses only the methods that reach it — the other methods of the same controller offload.
 */
describe('Nest refusals: precise and per method', () => {
  it('names the value and its line, and leaves sibling methods offloaded', async () => {
    const entry = buildNestFixture(path.join(__dirname, 'fixtures/nest-refusals'), 'app.ts', 'ES2022', 'nest-refusals');
    const app = await startApp(entry, { BEEHIVE_MODE: 'always' });
    const got: Record<string, unknown> = {};
    for (const p of ['r/tagged', 'r/plain', 'r/secret', 'r/ledger', 'r/bump', 'r/hits', 'r/poll', 'r/tagged']) {
      const r = await call(app.url, 'GET', `/${p}`);
      expect(r.status).toBe(200);
      got[p.slice(2)] = JSON.parse(r.body.startsWith('{') ? r.body : JSON.stringify(r.body));
    }
    const stats = await app.stop();
    const by = Object.fromEntries(stats.handlers.map((h: { id: string }) => [h.id, h])) as Record<string, { reason?: string; offloaded: number; local: number; failures: number }>;

    expect(got).toEqual({ tagged: 'local-kind', plain: { n: 42 }, secret: { len: 6 }, ledger: { big: '5000000000000' }, bump: { hits: 1 }, hits: { hits: 1 }, poll: 'polling' });
    const file = /app\.js:\d+/;
    // An unregistered Symbol on a service travels (one worker symbol per server symbol): no refusal.
    // The private field: the class, and the path the method reaches it by.
    expect(by['GET /r/secret'].reason).toMatch(/SecretService/);
    expect(by['GET /r/secret'].reason).toMatch(/reached as this\.secret\b/);
    // The assigned `let`: its name and the line of the assignment (not the class's or constructor's).
    expect(by['GET /r/bump'].reason).toMatch(/'hits'/);
    const line = fs.readFileSync(entry, 'utf8').split('\n').findIndex((l) => /^\s*hits\+\+;/.test(l)) + 1;
    expect(by['GET /r/bump'].reason).toContain(`app.js:${line})`);
    // Per method: the controller's other methods are offloaded, and a BigInt literal is no refusal.
    for (const id of ['GET /r/tagged', 'GET /r/plain', 'GET /r/ledger', 'GET /r/hits']) {
      expect(by[id].reason, id).toBeUndefined();
      expect(by[id].failures, id).toBe(0);
      expect(by[id].offloaded, id).toBeGreaterThan(0);
    }
    // Work that would outlive the invocation: refused by the worker, with what it is, then run here.
    expect(by['GET /r/poll'].reason).toMatch(/BEEHIVE_ERR_WORKER_REFUSED|setInterval/);
    expect(by['GET /r/poll'].reason).toMatch(/setInterval/);
    expect(by['GET /r/poll'].local).toBe(1);
    for (const id of ['GET /r/secret', 'GET /r/bump', 'GET /r/poll']) expect(by[id].offloaded, id).toBe(0);
  });
});
