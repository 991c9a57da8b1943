import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import path from 'node:path';
import http from 'node:http';
import { once } from 'node:events';
import openwhisk from 'openwhisk';
import { startOpenWhiskEmulator, type OpenWhiskEmulator } from '../openwhisk/server';
import { FIXTURES, FN, gate } from './helpers';

/** A raw request, for what the client never sends (malformed JSON, missing auth). */
async function raw(url: string, method: string, body: string, headers: Record<string, string> = {}) {
  const req = http.request(url, { method, headers: { 'content-type': 'application/json', ...headers } });
  req.end(body);
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  let text = '';
  for await (const c of res) text += c;
  return { status: res.statusCode, json: JSON.parse(text) };
}

describe('OpenWhisk emulator: actions and activations API through the openwhisk client', () => {
  let emu: OpenWhiskEmulator;
  let ow: ReturnType<typeof openwhisk>;
  beforeAll(async () => {
    emu = await startOpenWhiskEmulator({
      blockingWindowS: 20,
      maxResultBytes: 64 * 1024,
      functions: [
        { name: 'fn', artifact: FN },
        { name: 'pkg/fn', artifact: FN },
        { name: 'slow', artifact: FN, timeoutS: 0.2 },
        { name: 'one', artifact: FN, concurrency: 1 },
        { name: 'broken', artifact: path.join(FIXTURES, 'bad-init') },
      ],
    });
    ow = openwhisk({ apihost: emu.url, api_key: emu.auth });
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('answers a blocking invoke with the full activation record, cold then warm', async () => {
    const a = await ow.actions.invoke({ name: 'fn', blocking: true, params: { op: 'echo', n: 1 } });
    expect(a.activationId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.response).toMatchObject({ status: 'success', success: true });
    expect(a.response.result.echo).toEqual({ op: 'echo', n: 1 });
    expect(a.response.result.ctx).toMatchObject({ activation: a.activationId, action: '/guest/fn' });
    expect(a.duration).toBeGreaterThanOrEqual(0);
    expect(a.annotations.find((x: any) => x.key === 'initTime')).toBeDefined();
    expect(a.annotations.find((x: any) => x.key === 'limits').value).toMatchObject({ memory: 256, timeout: 60000 });
    const b = await ow.actions.invoke({ name: 'fn', blocking: true, params: { op: 'echo' } });
    expect(b.response.result.pid).toBe(a.response.result.pid);
    expect(b.annotations.find((x: any) => x.key === 'initTime')).toBeUndefined();
  });

  it('unwraps result=true in the client and runs actions in packages', async () => {
    const r = await ow.actions.invoke({ name: 'pkg/fn', blocking: true, result: true, params: { op: 'echo', x: 2 } });
    expect(r.echo).toEqual({ op: 'echo', x: 2 });
  });

  it('records logs in the activation', async () => {
    const a = await ow.actions.invoke({ name: 'fn', blocking: true, params: { op: 'log', who: 'ow' } });
    expect(a.logs.some((l: string) => / stdout: hello from ow$/.test(l))).toBe(true);
  });

  it('marks an {error} result as an application error (HTTP 502)', async () => {
    const err = await ow.actions.invoke({ name: 'fn', blocking: true, params: { op: 'appError' } }).catch((e: any) => e);
    expect(err.statusCode).toBe(502);
    expect(err.error.response).toMatchObject({ status: 'application error', success: false, result: { error: { message: 'application says no' } } });
  });

  it('marks a timeout, a crash, a non-dictionary, an oversized result and a failed init as developer errors', async () => {
    const cases: Array<[string, object, RegExp]> = [
      ['slow', { op: 'sleep', ms: 5000 }, /exceeded its time limits of 200 milliseconds/],
      ['fn', { op: 'crash' }, /exited unexpectedly/],
      ['fn', { op: 'garbage' }, /did not return a dictionary/],
      ['fn', { op: 'big', bytes: 70000 }, /exceeded the allowed length: \d+ > 65536 bytes/],
      ['broken', {}, /Initialization has failed due to: .*missing configuration/],
    ];
    for (const [name, params, message] of cases) {
      const err = await ow.actions.invoke({ name, blocking: true, params }).catch((e: any) => e);
      expect(err.statusCode).toBe(502);
      expect(err.error.response.status).toBe('action developer error');
      expect(err.error.response.result.error).toMatch(message);
    }
  });

  it('answers 202 past the blocking window; the activation is fetched once done', async () => {
    const short = await startOpenWhiskEmulator({ blockingWindowS: 0.05, functions: [{ name: 'fn', artifact: FN }] });
    try {
      const client = openwhisk({ apihost: short.url, api_key: short.auth });
      const r = await client.actions.invoke({ name: 'fn', blocking: true, params: { op: 'sleep', ms: 300 } });
      expect(r).toEqual({ activationId: expect.stringMatching(/^[0-9a-f]{32}$/) });
      const done = new Promise<void>((resolve) => short.events.on('activation', (a) => a.activationId === r.activationId && resolve()));
      const missing = await client.activations.get({ name: r.activationId }).catch((e: any) => e);
      expect(missing.statusCode).toBe(404);
      await done;
      const rec = await client.activations.get({ name: r.activationId });
      expect(rec.response.result).toMatchObject({ slept: 300 });
    } finally {
      await short.close();
    }
  });

  it('rejects bad auth, unknown actions, foreign namespaces, malformed JSON and big bodies', async () => {
    const bad = openwhisk({ apihost: emu.url, api_key: 'nope:wrong' });
    expect(await bad.actions.invoke({ name: 'fn', blocking: true }).catch((e: any) => e.statusCode)).toBe(401);
    expect(await ow.actions.invoke({ name: 'missing', blocking: true }).catch((e: any) => e.statusCode)).toBe(404);
    expect(await ow.actions.invoke({ name: '/other/fn', blocking: true }).catch((e: any) => e.statusCode)).toBe(403);
    const auth = 'Basic ' + Buffer.from(emu.auth).toString('base64');
    const url = `${emu.url}/api/v1/namespaces/_/actions/fn?blocking=true`;
    expect(await raw(url, 'POST', '{oops', { authorization: auth })).toMatchObject({ status: 400, json: { error: expect.stringMatching(/malformed/) } });
    expect(await raw(url, 'POST', '[1]', { authorization: auth })).toMatchObject({ status: 400 });
    expect(await raw(url, 'POST', '{}')).toMatchObject({ status: 401, json: { error: expect.stringMatching(/requires authentication/) } });
    const big = await ow.actions.invoke({ name: 'fn', blocking: true, params: { pad: 'x'.repeat(1024 * 1024) } }).catch((e: any) => e);
    expect(big.statusCode).toBe(413);
  });

  it('throttles at the concurrency limit with 429', async () => {
    const g = await gate();
    try {
      const holding = ow.actions.invoke({ name: 'one', blocking: true, params: { op: 'hold', url: g.url } });
      await g.held(1);
      const err = await ow.actions.invoke({ name: 'one', blocking: true, params: { op: 'echo' } }).catch((e: any) => e);
      expect(err.statusCode).toBe(429);
      expect(err.message).toMatch(/Too many concurrent requests/);
      // The held invoke may outlast the (short) blocking window: wait for its activation record.
      const recorded = new Promise<any>((resolve) => {
        const f = (rec: any) => rec.name === 'one' && rec.response.success && (emu.events.off('activation', f), resolve(rec));
        emu.events.on('activation', f);
      });
      g.release();
      await holding;
      expect((await recorded).response.result).toMatchObject({ held: true });
    } finally {
      g.close();
    }
  });

  it('accepts a non-blocking invoke with 202', async () => {
    const done = once(emu.events, 'activation');
    const r = await ow.actions.invoke({ name: 'fn', params: { op: 'echo' } });
    expect(r.activationId).toMatch(/^[0-9a-f]{32}$/);
    const [rec] = await done;
    expect(rec.activationId).toBe(r.activationId);
  });
});
