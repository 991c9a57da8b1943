#!/usr/bin/env node
'use strict';
/**
 * One scenario, one provider, in this fresh process: an app under the agent (BEEHIVE_MODE=always)
 * starts against a platform with no warm worker; the time from sending its first request to the
 * response is measured (cold start, closure capture and invoke included), then the next requests.
 * `--provider off` is the same app with the agent off, as the baseline.
 *
 *   node bench/platforms/first-request.js --provider off|local|lambda|openwhisk [--next 20]
 */
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const path = require('node:path');
const readline = require('node:readline');
const root = path.join(__dirname, '../..');
const { startTestPlatform } = require(path.join(root, 'dist/infra/index.js'));

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const PROVIDER = args.provider ?? 'lambda';
const NEXT = Number(args.next ?? 20);

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

(async () => {
  const platform = PROVIDER === 'lambda' || PROVIDER === 'openwhisk' ? await startTestPlatform(PROVIDER, { memoryMB: 512, appRoot: root }) : undefined;
  const env = { ...process.env, BEEHIVE_APP_ROOT: root, ...(platform ? platform.env : {}) };
  if (PROVIDER === 'off') env.BEEHIVE_MODE = 'off';
  else env.BEEHIVE_MODE = 'always';
  if (PROVIDER === 'local') env.BEEHIVE_PLATFORM = 'local';
  const child = spawn(process.execPath, ['-r', path.join(root, 'dist/agent/register.js'), path.join(__dirname, 'app.js')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(readline.createInterface({ input: child.stdout }), 'line');
  const base = `http://127.0.0.1:${JSON.parse(line).port}`;
  const get = async (p) => {
    const t = process.hrtime.bigint();
    const r = await fetch(base + p);
    const body = await r.json();
    if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(body)}`);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const first = await get('/fib/20');
  const next = [];
  for (let i = 0; i < NEXT; i++) next.push(await get('/fib/20'));
  child.kill('SIGTERM');
  await once(child, 'exit');
  const reports = platform ? (platform.emulator.reports ? platform.emulator.reports.length : platform.emulator.activations.size) : 0;
  if (platform) await platform.close();
  process.stdout.write(JSON.stringify({ provider: PROVIDER, firstMs: first, nextMedianMs: median(next), platformInvocations: reports }) + '\n');
})().catch((err) => {
  process.stderr.write(String((err && err.stack) || err) + '\n');
  process.exit(1);
});
