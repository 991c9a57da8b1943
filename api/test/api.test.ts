/**
 * The public API module: what `require('beehive')` returns on the server is api/'s own object (the
 * one a worker hands out too), named ESM imports work, and without an agent the calls behave as the
 * server's would with nothing to coordinate. Each case runs in a fresh Node process on dist/.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BEEHIVE_')));
const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env, timeout: 60_000 });

describe('require("beehive")', () => {
  it('is api/ itself, and loads the agent only when a call needs it', () => {
    const r = node(['-e', `
      const b = require('./dist/index.js');
      const loaded = () => Object.keys(require.cache).some((f) => f.endsWith('/dist/agent/index.js'));
      const out = { same: b === require('./dist/api'), keys: Object.keys(b).sort(), agentAtRequire: loaded() };
      b.lock('k', () => 41 + 1).then((v) => {
        out.lock = v;
        out.state = b.state() === undefined;
        out.agentAfterCalls = loaded();
        console.log(JSON.stringify(out));
      });`]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ same: true, keys: ['BeehiveError', 'configure', 'lock', 'state', 'unguarded'], agentAtRequire: false, lock: 42, state: true, agentAfterCalls: true });
  });

  it('gives ESM apps named imports and the same object as default', () => {
    const r = node(['--input-type=module', '-e', `
      import b, { lock, state, unguarded, configure, BeehiveError } from '${path.join(ROOT, 'dist/index.js')}';
      console.log(JSON.stringify([b.lock === lock, typeof state, unguarded(() => 7), typeof configure, typeof BeehiveError]));`]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([true, 'function', 7, 'function', 'function']);
  });

  it('checks its arguments', () => {
    const r = node(['-e', `
      const b = require('./dist/index.js');
      const msg = (f) => { try { f(); return 'no error'; } catch (e) { return [e.constructor.name, e instanceof TypeError, e instanceof b.BeehiveError, e.code, e.message].join(' '); } };
      console.log(JSON.stringify([msg(() => b.lock('', () => 1)), msg(() => b.lock('k')), msg(() => b.unguarded(1))]));`]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      'TypeError true true BEEHIVE_ERR_API_LOCK_KEY lock key must be a string of 1 to 256 characters',
      'TypeError true true BEEHIVE_ERR_API_LOCK_FN lock needs a function',
      'TypeError true true BEEHIVE_ERR_API_UNGUARDED_FN unguarded needs a function',
    ]);
  });
});
