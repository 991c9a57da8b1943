import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../index';
import { createMemoryControl, type MemoryControl } from './fixtures/memory-control';
import { call } from './fixtures/http';

const TOKEN = 's3cret-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let control: MemoryControl;
let admin: AdminServer;

beforeEach(async () => {
  control = createMemoryControl();
  admin = await startAdminServer({ control, port: 0, token: TOKEN, series: false });
});
afterEach(() => admin.close());

const put = (path: string, body: unknown, headers: Record<string, string> = auth) =>
  call(admin.url, 'PUT', path, { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

function expectError(r: { status: number; json: any }, status: number, code: string): void {
  expect(r.status).toBe(status);
  expect(r.json.error.code).toBe(`BEEHIVE_ERR_ADMIN_${code}`);
  expect(typeof r.json.error.message).toBe('string');
}

describe('admin API reads', () => {
  it('binds loopback and serves the state as JSON', async () => {
    expect(admin.address.address).toBe('127.0.0.1');
    const r = await call(admin.url, 'GET', '/api/state');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.json).toEqual(control.getState());
  });

  it('serves the dashboard with a CSP that admits only its own script', async () => {
    const r = await call(admin.url, 'GET', '/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.text).toContain('<svg class="chart" id="c-rate"');
    expect(r.headers['content-security-policy']).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+';/);
    expect(r.text).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // nothing from elsewhere
  });

  it('serves Prometheus text on /metrics', async () => {
    const r = await call(admin.url, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.text).toContain('beehive_offload_ratio 0');
  });

  it('serves an empty series when sampling is off', async () => {
    const r = await call(admin.url, 'GET', '/api/series');
    expect(r.json).toEqual({ intervalMs: 0, sloMs: 50, points: [] });
  });

  it('answers 404 for an unknown route and 405 with Allow for a wrong method', async () => {
    expectError(await call(admin.url, 'GET', '/nope'), 404, 'NOT_FOUND');
    const r = await call(admin.url, 'POST', '/api/state');
    expectError(r, 405, 'METHOD_NOT_ALLOWED');
    expect(r.headers.allow).toBe('GET, HEAD');
    const g = await call(admin.url, 'GET', '/api/handlers/GET%20%2Fthumb');
    expectError(g, 405, 'METHOD_NOT_ALLOWED');
    expect(g.headers.allow).toBe('PUT');
    expectError(await call(admin.url, 'DELETE', '/api/ratio'), 405, 'METHOD_NOT_ALLOWED');
  });

  it('refuses a Host header that does not name loopback (DNS rebinding)', async () => {
    expectError(await call(admin.url, 'GET', '/api/state', { headers: { host: 'evil.example:9477' } }), 403, 'HOST_NOT_ALLOWED');
    expect((await call(admin.url, 'GET', '/api/state', { headers: { host: `localhost:${admin.address.port}` } })).status).toBe(200);
  });
});

describe('admin API changes', () => {
  it('sets the ratio with a valid token', async () => {
    const r = await put('/api/ratio', { ratio: 0.5 });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ratio: 0.5 });
    expect(control.getState().ratio).toBe(0.5);
  });

  it('sets a handler mode by URL-encoded id', async () => {
    const r = await put('/api/handlers/GET%20%2Fthumb', { mode: 'off' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ id: 'GET /thumb', mode: 'off' });
    expect(control.getState().handlers[0].mode).toBe('off');
    const r2 = await put(`/api/handlers/${encodeURIComponent('POST /topics/:id/comments')}`, { mode: 'always' });
    expect(r2.json.mode).toBe('always');
  });

  const cases: Array<[string, () => ReturnType<typeof put>, number, string]> = [
    ['no token', () => put('/api/ratio', { ratio: 0.5 }, {}), 401, 'UNAUTHORIZED'],
    ['a malformed Authorization header', () => put('/api/ratio', { ratio: 0.5 }, { authorization: TOKEN }), 401, 'UNAUTHORIZED'],
    ['a wrong token', () => put('/api/ratio', { ratio: 0.5 }, { authorization: 'Bearer nope' }), 403, 'FORBIDDEN'],
    ['a token with a matching prefix', () => put('/api/ratio', { ratio: 0.5 }, { authorization: `Bearer ${TOKEN}x` }), 403, 'FORBIDDEN'],
    ['bad JSON', () => put('/api/ratio', '{"ratio":'), 400, 'BAD_JSON'],
    ['a ratio above 1', () => put('/api/ratio', { ratio: 1.5 }), 400, 'BAD_RATIO'],
    ['a negative ratio', () => put('/api/ratio', { ratio: -0.1 }), 400, 'BAD_RATIO'],
    ['a ratio as a string', () => put('/api/ratio', { ratio: '0.5' }), 400, 'BAD_RATIO'],
    ['no ratio', () => put('/api/ratio', {}), 400, 'BAD_RATIO'],
    ['a JSON null body', () => put('/api/ratio', 'null'), 400, 'BAD_RATIO'],
    ['an unknown mode', () => put('/api/handlers/GET%20%2Fthumb', { mode: 'sometimes' }), 400, 'BAD_MODE'],
    ['a malformed id', () => put('/api/handlers/%E0%A4%A', { mode: 'off' }), 400, 'BAD_HANDLER_ID'],
    ['an unknown handler', () => put('/api/handlers/GET%20%2Fnope', { mode: 'off' }), 404, 'UNKNOWN_HANDLER'],
    ['a body over the limit', () => put('/api/ratio', JSON.stringify({ ratio: 0.5, pad: 'x'.repeat(5000) })), 413, 'BODY_TOO_LARGE'],
    ['a non-JSON content type', () => call(admin.url, 'PUT', '/api/ratio', { body: 'ratio=0.5', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['no content type', () => call(admin.url, 'PUT', '/api/ratio', { body: '{"ratio":0.5}', headers: auth }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ];
  for (const [name, send, status, code] of cases) {
    it(`refuses ${name} with ${status} and changes nothing`, async () => {
      const before = control.getState();
      expectError(await send(), status, code);
      expect(control.getState()).toEqual(before);
      expect(control.calls.filter((c) => c[0] === 'setRatio' || c[0] === 'setHandlerMode')).toEqual([]);
    });
  }

  it('refuses a chunked body that grows over the limit', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${admin.url}/api/ratio`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"ratio":0.5,"pad":"');
      req.write('y'.repeat(5000));
      req.end('"}');
    });
    expect(status).toBe(413);
    expect(control.getState().ratio).toBe(0);
  });

  it('reports a throwing agent as 500 without crashing', async () => {
    control.setRatio = () => { throw new Error('boom'); };
    expectError(await put('/api/ratio', { ratio: 0.5 }), 500, 'INTERNAL');
    expect((await call(admin.url, 'GET', '/api/state')).status).toBe(200);
  });
});

describe('admin API without a token', () => {
  it('refuses changes unless explicitly allowed', async () => {
    const c = createMemoryControl();
    const a = await startAdminServer({ control: c, port: 0, series: false });
    try {
      const r = await call(a.url, 'PUT', '/api/ratio', { body: { ratio: 0.3 } });
      expectError(r, 403, 'CHANGES_DISABLED');
      expect(c.getState().ratio).toBe(0);
    } finally {
      await a.close();
    }
  });

  it('allows changes on loopback with allowUnauthenticatedChanges', async () => {
    const c = createMemoryControl();
    const a = await startAdminServer({ control: c, port: 0, series: false, allowUnauthenticatedChanges: true });
    try {
      expect((await call(a.url, 'PUT', '/api/ratio', { body: { ratio: 0.3 } })).status).toBe(200);
      expect(c.getState().ratio).toBe(0.3);
    } finally {
      await a.close();
    }
  });

  it('reports a port in use as a coded error', async () => {
    const c = createMemoryControl();
    await expect(startAdminServer({ control: c, port: admin.address.port, series: false })).rejects.toMatchObject({
      code: 'BEEHIVE_ERR_ADMIN_LISTEN_FAILED',
    });
  });
});
