import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startOpenWhiskEmulator, type OpenWhiskEmulator } from '../../../infra/index';
import { createOpenWhiskProvider, providerOptionsFromEnv, type OpenWhiskProvider } from '../openwhisk';
import { event, FN, rejection } from './helpers';

describe('OpenWhisk provider through the openwhisk client against the emulator', () => {
  let emu: OpenWhiskEmulator;
  const providers: OpenWhiskProvider[] = [];
  const make = (action: string, extra = {}) => {
    const p = createOpenWhiskProvider({ apihost: emu.url, auth: emu.auth, action, ...extra }) as OpenWhiskProvider;
    providers.push(p);
    return p;
  };
  beforeAll(async () => {
    emu = await startOpenWhiskEmulator({
      blockingWindowS: 0.25,
      maxResultBytes: 32 * 1024,
      functions: [
        { name: 'worker', artifact: FN, memoryMB: 512 },
        { name: 'slow', artifact: FN, timeoutS: 0.2 },
        { name: 'single', artifact: FN, concurrency: 1 },
        { name: 'pool', artifact: FN },
      ],
    });
  });
  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()));
    await emu?.close();
  });

  it('invokes, returns the InvocationResult with billing from the activation, counts cold and warm', async () => {
    const p = make('worker');
    const e = event();
    const r = await p.invoke(e, { timeoutMs: 5000 });
    expect(r).toMatchObject({ beehive: 1, inv: e.inv, ok: true, billing: { memoryMB: 512 } });
    await p.invoke(event(), { timeoutMs: 5000 });
    const s = p.stats();
    expect(s).toMatchObject({ invocations: 2, cold: 1, warm: 1 });
    expect(s.cost!.usd).toBeCloseTo(s.gbSeconds * 0.000017, 12);
  });

  it('reads its options from BEEHIVE_OPENWHISK_*', async () => {
    const p = createOpenWhiskProvider(providerOptionsFromEnv({ BEEHIVE_OPENWHISK_APIHOST: emu.url, BEEHIVE_OPENWHISK_AUTH: emu.auth, BEEHIVE_OPENWHISK_ACTION: 'worker' })) as OpenWhiskProvider;
    providers.push(p);
    expect((await p.invoke(event(), { timeoutMs: 5000 })).ok).toBe(true);
  });

  it('polls the activation when a blocking invoke outlasts the blocking window (202)', async () => {
    const r = await make('worker').invoke(event({ op: 'sleep', ms: 500 }), { timeoutMs: 5000 });
    expect(r.ok).toBe(true);
    expect(JSON.parse(Buffer.from(r.outcome!, 'base64').toString())).toMatchObject({ slept: 500 });
  });

  it('rejects TIMEOUT at the caller deadline, also while polling, and on the action time limit', async () => {
    expect(await rejection(make('worker').invoke(event({ op: 'sleep', ms: 3000 }), { timeoutMs: 100 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_TIMEOUT', kind: 'timeout' });
    expect(await rejection(make('worker').invoke(event({ op: 'sleep', ms: 3000 }), { timeoutMs: 600 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_TIMEOUT' });
    const limit = await rejection(make('slow').invoke(event({ op: 'sleep', ms: 3000 }), { timeoutMs: 5000 }));
    expect(limit).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_TIMEOUT' });
    expect(limit.message).toMatch(/exceeded its time limits/);
  });

  it('maps activation failures: crash, function error, garbage, oversized result', async () => {
    const p = make('worker');
    expect(await rejection(p.invoke(event({ op: 'crash' }), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_CRASH', kind: 'crash' });
    expect(await rejection(p.invoke(event({ op: 'throw', why: 'x' }), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_FUNCTION_ERROR' });
    expect(await rejection(p.invoke(event({ op: 'appError' }), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_FUNCTION_ERROR' });
    expect(await rejection(p.invoke(event({ op: 'garbage' }), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_MALFORMED_RESPONSE', kind: 'serialize' });
    expect(await rejection(p.invoke(event({ op: 'echo' }), { timeoutMs: 5000 }))).toMatchObject({ kind: 'serialize' });
    expect(await rejection(p.invoke(event({ op: 'big', bytes: 40_000 }), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_PAYLOAD_TOO_LARGE' });
  });

  it('rejects NOT_FOUND and AUTH', async () => {
    expect(await rejection(make('missing').invoke(event(), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_NOT_FOUND', kind: 'not-found' });
    expect(await rejection(make('worker', { auth: 'someone:else' }).invoke(event(), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_AUTH', kind: 'platform' });
  });

  it('refuses an event above maxPayloadBytes before sending it', async () => {
    const before = emu.activations.size;
    const err = await rejection(make('worker').invoke(event({ op: 'result' }, { closure: 'x'.repeat(1024 * 1024) }), { timeoutMs: 5000 }));
    expect(err).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_PAYLOAD_TOO_LARGE', kind: 'payload-too-large' });
    expect(emu.activations.size).toBe(before);
  });

  it('rejects THROTTLED at the concurrency limit, then backs off', async () => {
    const { gate } = await import('../../../infra/emulators/test/helpers');
    const g = await gate();
    try {
      const p = make('single', { throttleBackoffMs: 60_000 });
      const holding = p.invoke(event({ op: 'hold', url: g.url }), { timeoutMs: 10_000 });
      await g.held(1);
      expect(await rejection(p.invoke(event(), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_THROTTLED', kind: 'throttled' });
      expect((await rejection(p.invoke(event(), { timeoutMs: 5000 }))).message).toMatch(/backing off/);
      g.release();
      expect((await holding).ok).toBe(true);
    } finally {
      g.close();
    }
  });

  it('rejects UNAVAILABLE when the API host does not answer', async () => {
    const p = createOpenWhiskProvider({ apihost: 'http://127.0.0.1:1', auth: emu.auth, action: 'worker' }) as OpenWhiskProvider;
    providers.push(p);
    expect(await rejection(p.invoke(event(), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_UNAVAILABLE', kind: 'platform' });
  });

  it('prewarms n containers', async () => {
    await make('pool').prewarm(2);
    expect(emu.stats().pool.instances).toBe(2);
  });
});
