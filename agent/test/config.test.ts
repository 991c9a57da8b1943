/**
 * Configuration as an operator meets it: every message names the variable or configure() key the
 * user wrote and carries a BEEHIVE_ERR_CONFIG_* code; typos get a suggestion; a platform that
 * cannot work is refused at start-up (one line, no stack trace, exit 1); the start-up summary line;
 * a second configure().
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkStartup, defaultAppRoot, ENV_VARIABLES, loadOptions, resolveOptions } from '../config';
import { REGISTER, ROOT } from './harness';
import os from 'node:os';
import readline from 'node:readline';

const err = (fn: () => unknown): { code: string; message: string } => {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('did not throw');
};

describe('options from the environment and configure()', () => {
  it('names the variable for a bad environment value, the key for a bad configure() value', () => {
    expect(err(() => loadOptions({}, { BEEHIVE_RATIO: '2' }))).toMatchObject({
      code: 'BEEHIVE_ERR_CONFIG_INVALID',
      message: "invalid configuration: BEEHIVE_RATIO must be a number from 0 to 1, got '2'",
    });
    expect(err(() => loadOptions({ ratio: 2 }, {}))).toMatchObject({
      code: 'BEEHIVE_ERR_CONFIG_INVALID',
      message: 'invalid configuration: configure({ ratio }) must be a number from 0 to 1, got 2',
    });
    expect(err(() => loadOptions({}, { BEEHIVE_WORKERS: 'two' })).message).toContain("BEEHIVE_WORKERS must be an integer >= 1, got 'two'");
    expect(err(() => loadOptions({}, { BEEHIVE_MODE: 'fast' })).message).toContain("BEEHIVE_MODE must be one of auto, manual, always, off, got 'fast'");
    expect(err(() => loadOptions({}, { BEEHIVE_ADMIN: '9477' })).message).toContain("BEEHIVE_ADMIN must be host:port or 'off', got '9477'");
    expect(err(() => loadOptions({}, { BEEHIVE_ROUTES: 'thumb' })).message).toContain('BEEHIVE_ROUTES must be a comma-separated list');
    expect(err(() => loadOptions({}, { BEEHIVE_QUIET: 'maybe' })).message).toContain("BEEHIVE_QUIET must be 1 or 0 (true/false), got 'maybe'");
    expect(err(() => loadOptions({}, { BEEHIVE_PROXY_CONTROL: 'http://127.0.0.1:1' }))).toMatchObject({
      code: 'BEEHIVE_ERR_CONFIG_MISSING',
      message: 'incomplete configuration: BEEHIVE_PROXY_CONTROL_TOKEN is required with BEEHIVE_PROXY_CONTROL',
    });
    // No option name of the code's own (options.x) leaks into a message.
    expect(err(() => loadOptions({}, { BEEHIVE_SLO_MS: '0' })).message).not.toContain('options.');
  });

  it('refuses unknown keys and variables with the closest name', () => {
    expect(err(() => loadOptions({ ratoi: 0.5 } as never, {}))).toMatchObject({
      code: 'BEEHIVE_ERR_CONFIG_UNKNOWN',
      message: "unknown configuration key: configure({ ratoi }) is not an option (did you mean 'ratio'?)",
    });
    expect(err(() => loadOptions({}, { BEEHIVE_RATOI: '0.5' })).message).toContain('BEEHIVE_RATOI is not a BeeHive variable (did you mean BEEHIVE_RATIO?)');
    expect(err(() => loadOptions({ zzzzzzzz: 1 } as never, {})).message).not.toContain('did you mean');
  });

  it('merges defaults, variables and configure() keys, in that order', () => {
    const o = loadOptions({ ratio: 0.25 }, { BEEHIVE_RATIO: '0.5', BEEHIVE_WORKERS: '3', BEEHIVE_ROUTES: 'GET /a, POST /b' });
    expect(o).toMatchObject({ ratio: 0.25, workers: 3, routes: ['GET /a', 'POST /b'], mode: 'auto', quiet: false });
    expect(loadOptions({}, { BEEHIVE_QUIET: '1', BEEHIVE_PROCESS_METRICS: 'true' })).toMatchObject({ quiet: true, processMetrics: true });
    expect(resolveOptions({ mode: 'manual' }).mode).toBe('manual');
  });

  it('refuses a platform that cannot work, naming what is missing', () => {
    const lambda = loadOptions({}, { BEEHIVE_PLATFORM: 'lambda' });
    expect(err(() => checkStartup(lambda, { BEEHIVE_PLATFORM: 'lambda' }))).toMatchObject({
      code: 'BEEHIVE_ERR_CONFIG_MISSING',
      message: 'incomplete configuration: BEEHIVE_PLATFORM=lambda needs BEEHIVE_LAMBDA_FUNCTION',
    });
    const env = { BEEHIVE_PLATFORM: 'lambda', BEEHIVE_LAMBDA_FUNCTION: 'worker:live' };
    // Real Lambda cannot reach a channel on loopback: the callback URL is required.
    expect(err(() => checkStartup(lambda, env)).message).toMatch(/BEEHIVE_PLATFORM=lambda needs BEEHIVE_CALLBACK_URL .* the channel listens on 127\.0\.0\.1:0/);
    expect(() => checkStartup(loadOptions({}, { ...env, BEEHIVE_CALLBACK_URL: 'wss://app.example.com/beehive' }), env)).not.toThrow();
    expect(() => checkStartup(loadOptions({}, { ...env, BEEHIVE_CHANNEL_LISTEN: '0.0.0.0:7000' }), env)).not.toThrow();
    // An emulator on this machine runs its workers here: loopback is reachable.
    expect(() => checkStartup(lambda, { ...env, BEEHIVE_LAMBDA_ENDPOINT: 'http://127.0.0.1:9001' })).not.toThrow();
    // The platform's SDK is an optional peer dependency.
    expect(err(() => checkStartup(lambda, { ...env, BEEHIVE_LAMBDA_ENDPOINT: 'http://127.0.0.1:9001' }, () => false))).toMatchObject({
      code: 'BEEHIVE_ERR_CONFIG_PEER_MISSING',
      message: expect.stringContaining('BEEHIVE_PLATFORM=lambda needs the package @aws-sdk/client-lambda: npm install @aws-sdk/client-lambda'),
    });
    const ow = loadOptions({ platform: 'openwhisk' }, {});
    expect(err(() => checkStartup(ow, {})).message).toContain('configure({ platform })=openwhisk needs BEEHIVE_OPENWHISK_APIHOST and BEEHIVE_OPENWHISK_AUTH and BEEHIVE_OPENWHISK_ACTION');
    const owEnv = { BEEHIVE_OPENWHISK_APIHOST: 'openwhisk.example.com', BEEHIVE_OPENWHISK_AUTH: 'a:b', BEEHIVE_OPENWHISK_ACTION: 'beehive/worker' };
    expect(err(() => checkStartup(ow, owEnv)).message).toContain('needs BEEHIVE_CALLBACK_URL');
    expect(err(() => checkStartup(ow, owEnv, () => false)).message).toContain('npm install openwhisk');
    expect(() => checkStartup(loadOptions({}, {}), {})).not.toThrow();
  });

  it('documents every variable in the README table', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| variable |'));
    for (const v of ENV_VARIABLES) expect(table, v).toContain(`\`${v}\``);
    expect(readme).toContain('NODE_DEBUG=beehive:*');
  });
});

/** Runs `script` under `node -r beehive/agent` with `env`; resolves with its exit code and output. */
async function run(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BEEHIVE_')));
  const child = spawn(process.execPath, ['-r', REGISTER, '-e', script], { cwd: ROOT, env: { ...clean, BEEHIVE_ADMIN: '127.0.0.1:0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const [code] = await once(child, 'exit');
  return { code, stdout, stderr };
}

describe("the app's root folder", () => {
  it('is the nearest folder with a package.json above the main script, wherever the app starts from', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-root-'));
    fs.mkdirSync(path.join(tmp, 'app/src/routes'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'app/package.json'), '{}');
    expect(defaultAppRoot(path.join(tmp, 'app/src/routes/server.js'), '/')).toBe(path.join(tmp, 'app'));
    expect(defaultAppRoot('src/routes/server.js', path.join(tmp, 'app'))).toBe(path.join(tmp, 'app'));
    // No script (node -e), or no package.json up to the file system's root: the current folder.
    expect(defaultAppRoot(null, '/srv')).toBe('/srv');
    expect(defaultAppRoot(path.join(tmp, 'loose.js'), '/srv')).toBe('/srv');
  });

  it('lets an app started from / offload (its workers find its packages)', async () => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BEEHIVE_')));
    const statsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bh-root-stats-')), 'stats.json');
    const child = spawn(process.execPath, ['-r', REGISTER, path.join(ROOT, 'agent/test/fixtures/mini.cjs')], {
      cwd: '/',
      env: { ...clean, BEEHIVE_MODE: 'always', BEEHIVE_QUIET: '1', BEEHIVE_SHADOW_RUNS: '0', BEEHIVE_ADMIN: '127.0.0.1:0', BEEHIVE_STATS_FILE: statsFile },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    try {
      const [line] = await once(readline.createInterface({ input: child.stdout! }), 'line');
      const url = `http://127.0.0.1:${JSON.parse(line as string).port}`;
      for (let i = 0; i < 3; i++) expect((await (await fetch(`${url}/fibnc/15`)).json()).v).toBe(610);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8')) as { handlers: Array<{ id: string; offloaded: number; failures: number }> };
    expect(stats.handlers.find((h) => h.id === 'GET /fibnc/:n')).toMatchObject({ offloaded: 3, failures: 0 });
  });
});

describe('start-up of node -r beehive/agent', () => {
  it('stops on a bad variable with one coded line and no stack trace', async () => {
    const r = await run('console.log("app ran")', { BEEHIVE_RATIO: '2' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe("beehive: BEEHIVE_ERR_CONFIG_INVALID: invalid configuration: BEEHIVE_RATIO must be a number from 0 to 1, got '2'");
  });

  it('stops on BEEHIVE_PLATFORM=lambda without a function', async () => {
    const r = await run('console.log("app ran")', { BEEHIVE_PLATFORM: 'lambda' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('beehive: BEEHIVE_ERR_CONFIG_MISSING: incomplete configuration: BEEHIVE_PLATFORM=lambda needs BEEHIVE_LAMBDA_FUNCTION');
  });

  it("stops on a platform setting the provider refuses, naming the variable, not the provider's option", async () => {
    const lambda = { BEEHIVE_PLATFORM: 'lambda', BEEHIVE_LAMBDA_FUNCTION: 'worker:live', BEEHIVE_CALLBACK_URL: 'wss://app.example.com/beehive' };
    const r = await run('console.log("app ran")', { ...lambda, BEEHIVE_LAMBDA_MEMORY: '64' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('beehive: BEEHIVE_ERR_CONFIG_INVALID: invalid configuration: BEEHIVE_LAMBDA_MEMORY must be between 128 and 10240');
    const ow = { BEEHIVE_PLATFORM: 'openwhisk', BEEHIVE_OPENWHISK_APIHOST: 'http://127.0.0.1:1', BEEHIVE_OPENWHISK_ACTION: 'beehive/w', BEEHIVE_OPENWHISK_AUTH: 'no-colon' };
    const o = await run('console.log("app ran")', ow);
    expect(o.code).toBe(1);
    expect(o.stderr.trim()).toBe('beehive: BEEHIVE_ERR_CONFIG_INVALID: invalid configuration: BEEHIVE_OPENWHISK_AUTH must be an API key of the form uuid:key');
  });

  it('prints one summary line on stderr, which BEEHIVE_QUIET=1 silences', async () => {
    // The line comes once the admin API listens; the script waits for it, then exits.
    // Manual mode prewarms the workers: the script waits for them too, then closes the agent.
    const wait = `const b = require('./dist/index.js');
      const t = setInterval(() => {
        const s = b.state();
        if (!s?.adminUrl || s.workers.length === 0 || s.workers.some((w) => w.state === 'starting')) return;
        clearInterval(t);
        require('./dist/agent').currentAgent().close().then(() => process.exit(0));
      }, 20);`;
    const r = await run(wait, { BEEHIVE_MODE: 'manual', BEEHIVE_RATIO: '0.5', BEEHIVE_WORKERS: '3' });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^beehive \d+\.\d+\.\d+: mode manual ratio 0\.5, platform local \(3 local worker processes\), dashboard http:\/\/127\.0\.0\.1:\d+\/ \(BEEHIVE_QUIET=1 hides this line\)\n$/);
    const q = await run(wait, { BEEHIVE_MODE: 'manual', BEEHIVE_QUIET: '1' });
    expect(q.code).toBe(0);
    expect(q.stderr).toBe('');
  });

  it('BEEHIVE_PROCESS_METRICS=1 adds the process metrics to /metrics', async () => {
    const script = `
      const b = require('./dist/index.js');
      const t = setInterval(async () => {
        const url = b.state()?.adminUrl;
        if (!url) return;
        clearInterval(t);
        const text = await (await fetch(url + '/metrics')).text();
        console.log(JSON.stringify([text.includes('process_cpu_user_seconds_total'), text.includes('beehive_info')]));
        await require('./dist/agent').currentAgent().close();
        process.exit(0);
      }, 20);`;
    expect(JSON.parse((await run(script, { BEEHIVE_MODE: 'manual', BEEHIVE_QUIET: '1', BEEHIVE_PROCESS_METRICS: '1' })).stdout)).toEqual([true, true]);
    expect(JSON.parse((await run(script, { BEEHIVE_MODE: 'manual', BEEHIVE_QUIET: '1' })).stdout)).toEqual([false, true]);
  });

  it('a second configure() returns the running agent when it asks for nothing new, and refuses a change', async () => {
    const script = `
      const b = require('./dist/index.js');
      const a = b.configure({ mode: 'manual' });
      console.log(b.configure({ mode: 'manual' }) === a);
      try { b.configure({ ratio: 0.5 }); } catch (e) { console.log(e.code + ' ' + e.message); }
      try { b.configure({ ratoi: 0.5 }); } catch (e) { console.log(e.code); }
      a.close().then(() => process.exit(0));`;
    const r = await run(script, { BEEHIVE_MODE: 'manual', BEEHIVE_QUIET: '1' });
    const [same, changed, typo] = r.stdout.trim().split('\n');
    expect(same).toBe('true');
    expect(changed).toMatch(/^BEEHIVE_ERR_CONFIG_ALREADY_STARTED the agent is already running: started by node -r beehive\/agent, it cannot take configure\(\{ ratio \}\) now/);
    expect(typo).toBe('BEEHIVE_ERR_CONFIG_UNKNOWN');
  });
});
