import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApp, type RunningApp } from './harness';

const APP = path.join(__dirname, 'fixtures/auto-app.cjs');
const TOKEN = 'admin-token-for-tests';

async function state(app: RunningApp): Promise<Record<string, any>> {
  return JSON.parse((await call(app.url, 'GET', '/__state')).body);
}

describe('auto mode on a running app: selection, admin API, metrics', () => {
  let app: RunningApp;
  let admin: string;
  beforeAll(async () => {
    app = await startApp(APP, { BEEHIVE_MODE: 'auto', BEEHIVE_ADMIN_TOKEN: TOKEN });
    admin = (await state(app)).agent.adminUrl;
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('selection picks the CPU-heavy handler and leaves the trivial ones', async () => {
    // Load until the profiler has judged every handler (selection runs once per second).
    let s: Record<string, any> = {};
    for (let round = 0; round < 60; round++) {
      await Promise.all([call(app.url, 'GET', '/heavy?rounds=20000'), call(app.url, 'GET', '/light'), call(app.url, 'GET', '/ping')]);
      s = await state(app);
      const by = Object.fromEntries(s.agent.handlers.map((h: any) => [h.id, h]));
      if (by['GET /heavy']?.selected && by['GET /heavy'].profile.count >= 5 && by['GET /light'].profile.count >= 5) break;
    }
    const by = Object.fromEntries(s.agent.handlers.map((h: any) => [h.id, h]));
    expect(by['GET /heavy'].selected).toBe(true);
    expect(by['GET /light'].selected).toBe(false);
    expect(by['GET /ping'].selected).toBe(false);
    expect(by['GET /heavy'].profile.meanMs).toBeGreaterThan(by['GET /light'].profile.meanMs);
  });

  it('the admin API changes the ratio and a handler mode only with the token, and the agent follows', async () => {
    const noToken = await fetch(`${admin}/api/ratio`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"ratio":1}' });
    expect(noToken.status).toBe(401);
    const wrong = await fetch(`${admin}/api/ratio`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: 'Bearer nope' }, body: '{"ratio":1}' });
    expect(wrong.status).toBe(403);
    const bad = await fetch(`${admin}/api/handlers/${encodeURIComponent('GET /light')}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: '{"mode":"sometimes"}' });
    expect(bad.status).toBe(400);
    const ok = await fetch(`${admin}/api/handlers/${encodeURIComponent('GET /light')}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: '{"mode":"always"}' });
    expect(ok.status).toBe(200);
    await call(app.url, 'GET', '/light');
    const s = await state(app);
    const light = s.agent.handlers.find((h: any) => h.id === 'GET /light');
    expect(light.mode).toBe('always');
    expect(light.offloaded).toBeGreaterThan(0);
  });

  it('serves Prometheus metrics with the documented names', async () => {
    const text = await (await fetch(`${admin}/metrics`)).text();
    expect(text).toMatch(/beehive_requests_total\{method="GET",route="\/light",where="offloaded"\} [1-9]/);
    expect(text).toMatch(/beehive_request_duration_seconds_count\{method="GET",route="\/light",where="offloaded"\} [1-9]/);
    expect(text).toMatch(/beehive_offload_ratio /);
  });
});
