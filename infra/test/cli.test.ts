import { describe, it, expect, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import readline from 'node:readline';
import { WARMUP_EVENT } from '../../protocol';
import { createLambdaProvider } from '../../agent/providers/lambda';
import { createOpenWhiskProvider } from '../../agent/providers/openwhisk';
import { invoke, lambdaClient, FN } from '../emulators/test/helpers';
import { makeApp } from '../package/test/app-fixture';

const CLI = path.resolve(__dirname, '../../dist/bin/beehive.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

/** Starts `beehive emulate ...` and resolves with its URL (first stdout line) and the later lines. */
async function emulate(...args: string[]) {
  const child = spawn(process.execPath, [CLI, 'emulate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = readline.createInterface({ input: child.stdout! });
  const later: string[] = [];
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`emulate exited ${code}`)));
  });
  lines.on('line', (l) => {
    later.push(l);
    lines.emit('more');
  });
  const nextLine = async () => {
    while (!later.length) await once(lines, 'more');
    return later.shift()!;
  };
  return { child, url: first.replace(/^listening /, ''), first, nextLine };
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGTERM');
});

describe('beehive package / emulate command lines', () => {
  it('rejects bad flags with one line and exit code 2', () => {
    for (const args of [
      ['package'],
      ['package', 'azure'],
      ['package', 'lambda', '--bogus'],
      ['emulate', 'lambda'],
      ['emulate', 'gcf', '--function', 'a=b'],
      ['emulate', 'lambda', '--function', 'noequals'],
      ['emulate', 'lambda', '--function', 'a=b', '--listen', 'nowhere'],
      ['emulate', 'lambda', '--function', 'a=b', '--timeout', '-1'],
      ['emulate', 'lambda', '--function', 'a=b', '--auth', 'x:y'],
    ]) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('prints --help', () => {
    expect(run('emulate', '--help').stdout).toMatch(/--function NAME=PATH/);
    expect(run('package', '--help').stdout).toMatch(/50 MB zipped \/ 250 MB unzipped/);
  });

  it('refuses an unusable artifact with a coded one-line error, exit 1', () => {
    const r = run('emulate', 'lambda', '--function', 'f=/does/not/exist');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^beehive emulate: BEEHIVE_ERR_EMULATOR_ARTIFACT: .*does not exist\n$/);
  });

  it('refuses an oversized artifact with exit 1 and one line', () => {
    const app = makeApp();
    try {
      // A sparse 260 MB file: over Lambda's 250 MB unzipped limit without writing 260 MB.
      const fs = require('node:fs') as typeof import('node:fs');
      fs.writeFileSync(path.join(app.dir, 'node_modules', 'shared', 'blob.bin'), '');
      fs.truncateSync(path.join(app.dir, 'node_modules', 'shared', 'blob.bin'), 260 * 1024 * 1024);
      const r = run('package', 'lambda', '--app', app.dir);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^beehive package: BEEHIVE_ERR_PACKAGE_TOO_LARGE: .*lambda artifact is 26\d\.\d\d MB unzipped, over the 250\.00 MB limit.*\n$/);
    } finally {
      app.cleanup();
    }
  });

  it('serves a function: address first, then one REPORT line per invocation; stops on SIGTERM', async () => {
    const emu = await emulate('lambda', '--listen', '127.0.0.1:0', '--function', `fn=${FN}`, '--memory', '192');
    children.push(emu.child);
    expect(emu.first).toMatch(/^listening http:\/\/127\.0\.0\.1:\d+$/);
    const client = lambdaClient(emu.url);
    const r = await invoke(client, 'fn', { op: 'echo' });
    expect(r.json.echo).toEqual({ op: 'echo' });
    expect(await emu.nextLine()).toMatch(/^fn ok REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 192 MB\tMax Memory Used: \d+ MB\tInit Duration/);
    client.destroy();
    emu.child.kill('SIGTERM');
    const [code] = await once(emu.child, 'exit');
    expect(code).toBe(0);
  });

  it('packages an app with `beehive package lambda`, and the Lambda emulator runs the artifact', async () => {
    const app = makeApp();
    try {
      const out = path.join(app.dir, 'worker.zip');
      const pkg = run('package', 'lambda', '--app', app.dir, '--out', out);
      expect(pkg.status, pkg.stderr).toBe(0);
      expect(pkg.stdout).toMatch(/wrote .*worker\.zip\n\s+zipped\s+[\d.]+ (KB|MB)\s+\(limit 50\.00 MB\)/);
      const emu = await emulate('lambda', '--function', `shop=${out}`, '--memory', '256', '--quiet');
      children.push(emu.child);
      const client = lambdaClient(emu.url);
      // The warm-up answer comes from the packaged adapter once the worker runtime has loaded.
      const warm = await invoke(client, 'shop', WARMUP_EVENT);
      expect(warm.FunctionError).toBeUndefined();
      expect(warm.json).toMatchObject({ beehiveWarmup: 1, worker: { cold: true } });
      // A real InvocationEvent reaches the real runtime: an unreachable channel is its coded failure.
      const provider = createLambdaProvider({ functionName: 'shop', endpoint: emu.url });
      const inv = { beehive: 1 as const, inv: 'inv-1', cap: 'c', channel: 'ws://127.0.0.1:1/', closureRef: 'x', timeoutMs: 2000 };
      const result = await provider.invoke(inv, { timeoutMs: 10_000 });
      expect(result).toMatchObject({ beehive: 1, inv: 'inv-1', ok: false, error: { code: expect.stringMatching(/^BEEHIVE_ERR_/) } });
      expect(provider.stats()).toMatchObject({ invocations: 1, warm: 1 });
      await provider.close();
      client.destroy();
    } finally {
      app.cleanup();
    }
  });

  it('packages for OpenWhisk, and the OpenWhisk emulator runs the action', async () => {
    const app = makeApp();
    try {
      const out = path.join(app.dir, 'action.zip');
      expect(run('package', 'openwhisk', '--app', app.dir, '--out', out).status).toBe(0);
      const emu = await emulate('openwhisk', '--function', `shop=${out}`, '--auth', 'u:k', '--quiet');
      children.push(emu.child);
      const provider = createOpenWhiskProvider({ apihost: emu.url, auth: 'u:k', action: 'shop' });
      await provider.prewarm(1);
      const inv = { beehive: 1 as const, inv: 'inv-2', cap: 'c', channel: 'ws://127.0.0.1:1/', closureRef: 'x', timeoutMs: 2000 };
      const result = await provider.invoke(inv, { timeoutMs: 10_000 });
      expect(result).toMatchObject({ inv: 'inv-2', ok: false, error: { code: expect.stringMatching(/^BEEHIVE_ERR_/) } });
      expect(provider.stats().warm).toBe(1);
      await provider.close();
    } finally {
      app.cleanup();
    }
  });
});
