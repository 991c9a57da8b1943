import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yazl from 'yazl';
import { startLambdaEmulator, type LambdaEmulator } from '../lambda/server';
import { FIXTURES, FN, invoke, lambdaClient } from './helpers';

/** Zips the fixture function, as a deployment package. */
async function zipFixture(): Promise<string> {
  const out = path.join(await fs.promises.mkdtemp(path.join(os.tmpdir(), 'beehive-zip-')), 'fn.zip');
  const zip = new yazl.ZipFile();
  zip.addFile(path.join(FN, 'index.js'), 'index.js');
  zip.end();
  await new Promise((resolve, reject) => zip.outputStream.pipe(fs.createWriteStream(out)).on('close', resolve).on('error', reject));
  return out;
}

describe('Lambda emulator: function faults come back as Unhandled function errors', () => {
  let emu: LambdaEmulator;
  let client: ReturnType<typeof lambdaClient>;
  let zipFile: string;
  beforeAll(async () => {
    zipFile = await zipFixture();
    emu = await startLambdaEmulator({
      functions: [
        { name: 'fn', artifact: FN },
        { name: 'slow', artifact: FN, timeoutS: 0.3 },
        { name: 'small', artifact: FN, memoryMB: 64 },
        { name: 'broken', artifact: path.join(FIXTURES, 'bad-init') },
        { name: 'zipped', artifact: zipFile },
      ],
    });
    client = lambdaClient(emu.url);
  });
  afterAll(async () => {
    client?.destroy();
    await emu?.close();
    if (zipFile) await fs.promises.rm(path.dirname(zipFile), { recursive: true, force: true });
  });

  it('reports a thrown error with its type, message and trace', async () => {
    const r = await invoke(client, 'fn', { op: 'throw', why: 'test' });
    expect(r.StatusCode).toBe(200);
    expect(r.FunctionError).toBe('Unhandled');
    expect(r.json).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad thing: test' });
    expect(r.json.trace[0]).toMatch(/TypeError: bad thing/);
    // A handled throw keeps the instance warm.
    const again = await invoke(client, 'fn', { op: 'echo' });
    expect(again.log).not.toMatch(/Init Duration/);
  });

  it('reports a crashed runtime as Runtime.ExitError and replaces the instance', async () => {
    const before = await invoke(client, 'fn', { op: 'echo' });
    const r = await invoke(client, 'fn', { op: 'crash' });
    expect(r.FunctionError).toBe('Unhandled');
    expect(r.json.errorType).toBe('Runtime.ExitError');
    expect(r.json.errorMessage).toMatch(/Runtime exited with error: exit status 3/);
    const after = await invoke(client, 'fn', { op: 'echo' });
    expect(after.json.pid).not.toBe(before.json.pid);
    expect(after.log).toMatch(/Init Duration/);
  });

  it('reports an exception thrown outside the handler and starts a fresh instance next time', async () => {
    const r = await invoke(client, 'fn', { op: 'uncaught' });
    expect(r.json).toMatchObject({ errorType: 'RangeError', errorMessage: 'thrown outside the handler' });
    const after = await invoke(client, 'fn', { op: 'echo' });
    expect(after.log).toMatch(/Init Duration/);
  });

  it('times out a long invocation: Task timed out, instance discarded', async () => {
    const r = await invoke(client, 'slow', { op: 'sleep', ms: 5000 });
    expect(r.FunctionError).toBe('Unhandled');
    expect(r.json.errorMessage).toMatch(/Task timed out after 0\.30 seconds/);
    expect(r.log).toMatch(/Task timed out after 0\.30 seconds/);
    expect(r.log).toMatch(/Billed Duration: 3\d\d ms/);
    expect(emu.stats().slow.instances).toBe(0);
  });

  it('kills an instance past its memory setting: Runtime.ExitError', async () => {
    const r = await invoke(client, 'small', { op: 'oom' });
    expect(r.FunctionError).toBe('Unhandled');
    expect(r.json.errorType).toBe('Runtime.ExitError');
    expect(r.log).toMatch(/Memory Size: 64 MB/);
    expect(r.log).toMatch(/heap out of memory|Allocation failed/i);
  });

  it('refuses a response above 6 MB', async () => {
    const r = await invoke(client, 'fn', { op: 'big', bytes: 6 * 1024 * 1024 + 10 });
    expect(r.FunctionError).toBe('Unhandled');
    expect(r.json.errorType).toBe('Function.ResponseSizeTooLarge');
  });

  it('reports a handler that fails to load as Runtime.ImportModuleError', async () => {
    const r = await invoke(client, 'broken', {});
    expect(r.FunctionError).toBe('Unhandled');
    expect(r.json).toMatchObject({ errorType: 'Runtime.ImportModuleError', errorMessage: 'cannot load: missing configuration' });
  });

  it('runs a zipped artifact, unpacked to a temp folder', async () => {
    const r = await invoke(client, 'zipped', { op: 'echo', z: 1 });
    expect(r.json.echo).toEqual({ op: 'echo', z: 1 });
  });
});
