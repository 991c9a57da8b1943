import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// A local worker whose server is gone (it exited while the worker started) must leave quietly: no
// EPIPE stack trace printed into the app's terminal after the app has exited.
const ENTRY = path.resolve(__dirname, '../../dist/offload-worker/local-entry.js');

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe('a local worker outliving its server', () => {
  it('exits without a word when the server exited before it was ready', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-orphan-'));
    const errFile = path.join(dir, 'stderr.txt');
    // The "server": forks the worker with its stderr in a file, prints the pid and exits at once.
    const parent = spawnSync(
      process.execPath,
      ['-e', `const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(errFile)}, 'w'); const c = require('child_process').fork(${JSON.stringify(ENTRY)}, [], { stdio: ['ignore', 'ignore', fd, 'ipc'] }); console.log(c.pid); process.exit(0);`],
      { encoding: 'utf8' },
    );
    expect(parent.status).toBe(0);
    const pid = Number(parent.stdout.trim());
    expect(pid).toBeGreaterThan(0);
    // The worker's own exit is the event; it has no parent here to report it.
    const deadline = Date.now() + 20_000;
    while (!gone(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(gone(pid)).toBe(true);
    expect(fs.readFileSync(errFile, 'utf8')).toBe('');
  });
});
