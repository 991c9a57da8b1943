import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = path.join(__dirname, '../../dist/bin/beehive.js');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('beehive CLI dispatcher', () => {
  it('lists its commands with --help and exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    for (const c of ['proxy', 'package', 'emulate', 'worker']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
  });
  it('exits 2 with a one-line error for an unknown command or none', () => {
    const r = run('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(run().status).toBe(2);
  });
  it('every command answers --help', () => {
    for (const c of ['proxy', 'package', 'emulate', 'worker']) {
      const r = run(c, '--help');
      expect(r.status, c).toBe(0);
      expect(r.stdout, c).toMatch(/usage: beehive/);
    }
  });
  it('worker: a bad flag, or no agent to serve, is a one-line error with exit 2', () => {
    for (const args of [['worker', '--bogus'], ['worker']]) {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
