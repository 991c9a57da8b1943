import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const r = run(flag);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`beehive ${version}\n`);
    }
  });
  it('usage errors name the flags, never the API options, and exit 2', () => {
    const cases: Array<[string[], RegExp]> = [
      [['proxy', '--upstream', 'mysql://x'], /^beehive proxy: --upstream must be a postgres:\/\/ URL/],
      [['proxy', '--upstream', 'postgres://u:p@127.0.0.1:1/db', '--control', '127.0.0.1:0', '--control-token', 'short'], /^beehive proxy: --control-token must be a string of at least 16 characters/],
      [['proxy', '--bogus'], /^beehive proxy: Unknown option '--bogus'/],
      [['package', 'lambda', '--app', path.join(__dirname, 'no-such-app')], /^beehive package: --app .*no-such-app is not an app folder: it has no package\.json/],
      [['package', 'azure'], /^beehive package: unknown platform 'azure'/],
      [['emulate', 'lambda'], /^beehive emulate: BEEHIVE_ERR_EMULATOR_USAGE: bad emulator arguments: --function NAME=ARTIFACT is required/],
    ];
    for (const [args, re] of cases) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.stderr, args.join(' ')).not.toMatch(/options\./);
    }
  });
});
