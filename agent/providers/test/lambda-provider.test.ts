import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startLambdaEmulator, type LambdaEmulator } from '../../../infra/index';
import { createLambdaProvider, providerOptionsFromEnv, type LambdaProvider } from '../lambda';
import { event, FN, rejection } from './helpers';

describe('Lambda provider through @aws-sdk/client-lambda against the emulator', () => {
  let emu: LambdaEmulator;
  const providers: LambdaProvider[] = [];
  const make = (functionName: string, extra = {}) => {
    const p = createLambdaProvider({ functionName, endpoint: emu.url, ...extra }) as LambdaProvider;
    providers.push(p);
    return p;
  };
  beforeAll(async () => {
    emu = await startLambdaEmulator({
      functions: [
        { name: 'worker', artifact: FN, memoryMB: 512 },
        { name: 'single', artifact: FN, concurrency: 1 },
        { name: 'slow', artifact: FN, timeoutS: 0.2 },
        { name: 'pool', artifact: FN },
      ],
    });
  });
  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()));
    await emu?.close();
  });

  it('invokes, returns the InvocationResult with billing, and counts cold and warm', async () => {
    const p = make('worker');
    const e1 = event();
    const r1 = await p.invoke(e1, { timeoutMs: 5000 });
    expect(r1).toMatchObject({ beehive: 1, inv: e1.inv, ok: true });
    expect(Buffer.from(r1.outcome!, 'base64').toString()).toBe('done:' + e1.inv);
    expect(r1.billing).toMatchObject({ memoryMB: 512 });
    expect(r1.billing!.billedMs).toBeGreaterThanOrEqual(1);
    await p.invoke(event(), { timeoutMs: 5000 });
    const s = p.stats();
    expect(s).toMatchObject({ invocations: 2, cold: 1, warm: 1, failures: {} });
    expect(s.gbSeconds).toBeCloseTo((s.billedMs / 1000) * 0.5, 9);
    expect(s.cost!.requests).toBe(2);
    expect(s.cost!.usd).toBeCloseTo(s.gbSeconds * 0.0000166667 + 2 * 0.2e-6, 12);
    expect(s.workers).toHaveLength(1);
  });

  it('accepts name:qualifier from BEEHIVE_LAMBDA_FUNCTION', async () => {
    const opts = providerOptionsFromEnv({ BEEHIVE_LAMBDA_FUNCTION: 'worker:live', BEEHIVE_LAMBDA_ENDPOINT: emu.url, BEEHIVE_PRICE_GB_SECOND: '0.00001' });
    const p = createLambdaProvider(opts) as LambdaProvider;
    providers.push(p);
    const r = await p.invoke(event(), { timeoutMs: 5000 });
    expect(r.ok).toBe(true);
    expect(p.stats().cost!.prices.perGbSecond).toBe(0.00001);
  });

  it('rejects NOT_FOUND for an unknown function', async () => {
    const err = await rejection(make('missing').invoke(event(), { timeoutMs: 5000 }));
    expect(err).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_NOT_FOUND', kind: 'not-found' });
  });

  it('rejects FUNCTION_ERROR for a thrown error, CRASH for a dead runtime', async () => {
    const p = make('worker');
    expect(await rejection(p.invoke(event({ op: 'throw', why: 'x' }), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_FUNCTION_ERROR', kind: 'crash' });
    const crash = await rejection(p.invoke(event({ op: 'crash' }), { timeoutMs: 5000 }));
    expect(crash).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_CRASH', kind: 'crash' });
    expect(crash.message).toMatch(/Runtime.ExitError/);
    expect(p.stats().failures).toEqual({ crash: 2 });
  });

  it('rejects MALFORMED_RESPONSE for an answer that is not an InvocationResult for this invocation', async () => {
    const p = make('worker');
    expect(await rejection(p.invoke(event({ op: 'garbage' }), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_MALFORMED_RESPONSE', kind: 'serialize' });
    expect(await rejection(p.invoke(event({ op: 'result', inv: 'someone-else' }), { timeoutMs: 5000 }))).toMatchObject({ kind: 'serialize' });
  });

  it('rejects TIMEOUT at the caller deadline and on the platform timeout', async () => {
    const p = make('worker');
    const client = await rejection(p.invoke(event({ op: 'sleep', ms: 2000 }), { timeoutMs: 100 }));
    expect(client).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_TIMEOUT', kind: 'timeout' });
    const platform = await rejection(make('slow').invoke(event({ op: 'sleep', ms: 5000 }), { timeoutMs: 5000 }));
    expect(platform).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_TIMEOUT' });
    expect(platform.message).toMatch(/Task timed out after 0.20 seconds/);
  });

  it('refuses an oversized event before sending it', async () => {
    const p = make('worker', { maxPayloadBytes: 4096 });
    const before = emu.reports.length;
    const err = await rejection(p.invoke(event({ op: 'result' }, { closure: 'x'.repeat(5000) }), { timeoutMs: 5000 }));
    expect(err).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_PAYLOAD_TOO_LARGE', kind: 'payload-too-large' });
    expect(emu.reports.length).toBe(before);
    // The same invocation by reference fits.
    const byRef = await p.invoke(event({ op: 'result' }, { closure: undefined, closureRef: 'c-1' }), { timeoutMs: 5000 });
    expect(byRef.ok).toBe(true);
  });

  it('rejects THROTTLED at the concurrency limit, then backs off without calling', async () => {
    const { gate } = await import('../../../infra/emulators/test/helpers');
    const g = await gate();
    try {
      const p = make('single', { throttleBackoffMs: 60_000 });
      const holding = p.invoke(event({ op: 'hold', url: g.url }), { timeoutMs: 10_000 });
      await g.held(1);
      expect(await rejection(p.invoke(event(), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_THROTTLED', kind: 'throttled' });
      const again = await rejection(p.invoke(event(), { timeoutMs: 5000 }));
      expect(again.message).toMatch(/backing off/);
      expect(emu.stats().single.throttles).toBe(1);
      g.release();
      expect((await holding).ok).toBe(true);
    } finally {
      g.close();
    }
  });

  it('rejects UNAVAILABLE when the endpoint does not answer', async () => {
    const p = createLambdaProvider({ functionName: 'worker', endpoint: 'http://127.0.0.1:1' }) as LambdaProvider;
    providers.push(p);
    expect(await rejection(p.invoke(event(), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_UNAVAILABLE', kind: 'platform' });
  });

  it('prewarms n instances with concurrent warm-up invokes', async () => {
    await make('pool').prewarm(3);
    expect(emu.stats().pool.instances).toBe(3);
  });

  it('rejects CLOSED after close', async () => {
    const p = make('worker');
    await p.close();
    expect(await rejection(p.invoke(event(), { timeoutMs: 5000 }))).toMatchObject({ code: 'BEEHIVE_ERR_PLATFORM_CLOSED' });
  });
});
