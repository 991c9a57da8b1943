'use strict';
// Process accounting for the contention benchmark: CPU of a process from /proc/PID/stat (utime +
// stime), its children (the local workers), and the bench app started the way users start theirs.
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { once } = require('node:events');

const ROOT = path.join(__dirname, '../..');
const REGISTER = path.join(ROOT, 'dist/agent/register.js');
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);

function cpuMs(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

function childrenOf(pid) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

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
