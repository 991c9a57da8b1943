'use strict';
// The contention benchmark's app, started the way users start theirs (the process accounting is
// bench/agent/lib.js's, shared with bench/capacity).
const { spawn } = require('node:child_process');
const { cpuMs, childrenOf } = require('../agent/lib');
const path = require('node:path');
const readline = require('node:readline');
const { once } = require('node:events');

const ROOT = path.join(__dirname, '../..');
const REGISTER = path.join(ROOT, 'dist/agent/register.js');
/** Starts `file` under the agent. */
async function startServer(file, env) {
  const child = spawn(process.execPath, ['-r', REGISTER, file], {
    cwd: ROOT,
    env: { ...process.env, BEEHIVE_APP_ROOT: ROOT, BEEHIVE_ADMIN: '127.0.0.1:0', BEEHIVE_QUIET: '1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const rl = readline.createInterface({ input: child.stdout });
  const line = await Promise.race([once(rl, 'line').then(([l]) => l), exited.then(([c]) => Promise.reject(new Error(`app exited with ${c}`)))]);
  rl.close();
  const url = `http://127.0.0.1:${JSON.parse(line).port}`;
  return {
    pid: child.pid,
    url,
    /** The agent's totals (the app has one offloadable route), through the app's own /__stats. */
    async stats() {
      return (await fetch(url + '/__stats')).json();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

module.exports = { cpuMs, childrenOf, startServer };
