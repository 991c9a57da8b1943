import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { once } from 'node:events';
import { InvokeCommand, ResourceNotFoundException, InvalidRequestContentException, TooManyRequestsException, RequestTooLargeException } from '@aws-sdk/client-lambda';
import { startLambdaEmulator, type LambdaEmulator } from '../lambda/server';
import { FN, gate, invoke, lambdaClient } from './helpers';

describe('Lambda emulator: the Invoke API through @aws-sdk/client-lambda', () => {
  let emu: LambdaEmulator;
  let client: ReturnType<typeof lambdaClient>;
  beforeAll(async () => {
    emu = await startLambdaEmulator({
      functions: [
        { name: 'fn', artifact: FN, memoryMB: 256 },
        { name: 'one', artifact: FN, concurrency: 1 },
        { name: 'brief', artifact: FN, idleTimeoutS: 0.05 },
      ],
    });
    client = lambdaClient(emu.url);
  });
  afterAll(async () => {
    client?.destroy();
    await emu?.close();
  });

  it('runs a cold start, then reuses the warm instance', async () => {
    const a = await invoke(client, 'fn', { op: 'echo', n: 1 });
    expect(a.StatusCode).toBe(200);
    expect(a.FunctionError).toBeUndefined();
    expect(a.ExecutedVersion).toBe('$LATEST');
    expect(a.json.echo).toEqual({ op: 'echo', n: 1 });
    expect(a.json.ctx).toMatchObject({ fn: 'fn', mem: '256' });
    expect(a.json.ctx.remaining).toBeGreaterThan(0);
    expect(a.log).toMatch(/^START RequestId: [0-9a-f-]+ Version: \$LATEST\n/);
    expect(a.log).toMatch(/REPORT RequestId: [0-9a-f-]+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms/);
    const b = await invoke(client, 'fn', { op: 'echo', n: 2 });
    expect(b.json.pid).toBe(a.json.pid);
    expect(b.json.calls).toBe(a.json.calls + 1);
    expect(b.log).not.toMatch(/Init Duration/);
    expect(emu.stats().fn).toMatchObject({ instances: 1, coldStarts: 1 });
  });

  it('returns the function logs, prefixed like the Node runtime, in the log tail', async () => {
    const r = await invoke(client, 'fn', { op: 'log', who: 'tests' });
    expect(r.log).toMatch(/\t[0-9a-f-]+\tINFO\thello from tests\n/);
    expect(r.log).toMatch(/\tERROR\tan error line\n/);
    expect(r.log).toMatch(/END RequestId/);
  });

  it('answers ResourceNotFoundException for an unknown function', async () => {
    const err = await invoke(client, 'nope', {}).catch((e) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err.$metadata.httpStatusCode).toBe(404);
    expect(err.message).toMatch(/Function not found: arn:aws:lambda:us-east-1:\d+:function:nope/);
  });

  it('accepts an ARN and a qualifier', async () => {
    const r = await invoke(client, 'arn:aws:lambda:us-east-1:000000000000:function:fn', { op: 'echo' }, { Qualifier: '3' });
    expect(r.ExecutedVersion).toBe('3');
  });

  it('answers InvalidRequestContentException for a body that is not JSON', async () => {
    const err = await client.send(new InvokeCommand({ FunctionName: 'fn', Payload: Buffer.from('{not json') })).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidRequestContentException);
    expect(err.message).toMatch(/Could not parse request body into json/);
  });

  it('answers RequestTooLargeException above the 6 MB invoke limit', async () => {
    const err = await invoke(client, 'fn', { op: 'echo', pad: 'x'.repeat(6 * 1024 * 1024) }).catch((e) => e);
    expect(err).toBeInstanceOf(RequestTooLargeException);
    expect(err.$metadata.httpStatusCode).toBe(413);
  });

  it('accepts Event (202) and DryRun (204) invocations', async () => {
    const ev = await client.send(new InvokeCommand({ FunctionName: 'fn', InvocationType: 'Event', Payload: Buffer.from('{"op":"echo"}') }));
    expect(ev.StatusCode).toBe(202);
    const dry = await client.send(new InvokeCommand({ FunctionName: 'fn', InvocationType: 'DryRun' }));
    expect(dry.StatusCode).toBe(204);
  });

  it('throttles at the concurrency limit with TooManyRequestsException', async () => {
    const g = await gate();
    try {
      const first = invoke(client, 'one', { op: 'hold', url: g.url });
      await g.held(1);
      const err = await invoke(client, 'one', { op: 'echo' }).catch((e) => e);
      expect(err).toBeInstanceOf(TooManyRequestsException);
      expect(err.Reason).toBe('ConcurrentInvocationLimitExceeded');
      expect(err.$metadata.httpStatusCode).toBe(429);
      g.release();
      expect((await first).json).toMatchObject({ held: true });
      expect(emu.stats().one.throttles).toBe(1);
    } finally {
      g.close();
    }
  });

  it('reaps an idle instance after the idle timeout', async () => {
    const exited = once(emu.events, 'instance-exit');
    const r = await invoke(client, 'brief', { op: 'echo' });
    const [info] = await exited;
    expect(info).toMatchObject({ function: 'brief', pid: r.json.pid });
    expect(emu.stats().brief.instances).toBe(0);
  });
});
