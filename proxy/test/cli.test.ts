import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { usePg, freePort } from './pg-server';

const root = path.join(__dirname, '../..');
const bin = path.join(root, 'dist/bin/beehive.js');
const server = usePg();

beforeAll(() => {
  // CI builds before testing (pretest); a bare `vitest run proxy` builds here. Type errors elsewhere in the tree do not stop tsc from emitting.
  if (!fs.existsSync(bin) || !fs.existsSync(path.join(root, 'dist/bin/commands/proxy.js'))) {
    try {
      execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore' });
    } catch {
      /* emitted anyway */
    }
  }
}, 120_000);

describe('beehive proxy (built CLI)', () => {
  it('prints its usage with --help', () => {
    const r = spawnSync(process.execPath, [bin, 'proxy', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--upstream URL');
    expect(r.stdout).toContain('--pool-mode MODE');
  });

  it('exits 2 with one line for a bad flag or value', () => {
    for (const args of [['--bogus'], ['--upstream', 'postgres://u@h/db', '--max-backends', 'zero'], ['--listen', 'nope'], []]) {
      const r = spawnSync(process.execPath, [bin, 'proxy', ...args], { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^beehive proxy: /);
    }
  });

  it('starts, serves a query, and stops on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [bin, 'proxy', '--listen', `127.0.0.1:${port}`, '--upstream', server.get().url, '--max-backends', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c) => {
        out += c;
        if (out.includes('listening on')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    expect(out).toContain(`postgres://127.0.0.1:${port}/postgres`);
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'secret-pw', database: 'postgres' });
    await c.connect();
    expect((await c.query('SELECT 2 AS two')).rows[0].two).toBe(2);
    await c.end();
    // SIGHUP does not kill it: it says so and keeps serving.
    const hupped = new Promise<void>((resolve) => child.stderr.on('data', (d) => String(d).includes('SIGHUP') && resolve()));
    child.kill('SIGHUP');
    await hupped;
    const again = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'secret-pw', database: 'postgres' });
    await again.connect();
    expect((await again.query('SELECT 3 AS three')).rows[0].three).toBe(3);
    await again.end();
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('--config FILE: starts from the file, SIGHUP reloads it (a bad file changes nothing), SIGTERM drains', async () => {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-proxy-cli-'));
    const file = path.join(dir, 'proxy.json');
    fs.writeFileSync(file, JSON.stringify({ upstream: server.get().url, listen: { host: '127.0.0.1', port }, maxBackends: 2 }));
    const child = spawn(process.execPath, [bin, 'proxy', '--config', file, '--drain', '2000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c) => {
        out += c;
        if (out.includes('listening on')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    expect(out).toContain(`127.0.0.1:${port}`);
    const query = async (sql: string) => {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'secret-pw', database: 'postgres' });
      await c.connect();
      const r = await c.query(sql);
      await c.end();
      return r.rows[0];
    };
    expect(await query('SELECT 1 AS one')).toEqual({ one: 1 });
    const line = (re: RegExp) => new Promise<string>((resolve) => {
      const on = () => {
        const m = err.split('\n').find((l) => re.test(l));
        if (m) {
          child.stderr.off('data', on);
          resolve(m);
        }
      };
      child.stderr.on('data', on);
      on();
    });
    fs.writeFileSync(file, JSON.stringify({ upstream: server.get().url, listen: { host: '127.0.0.1', port }, maxBackends: 3 }));
    child.kill('SIGHUP');
    expect(await line(/SIGHUP: reloaded/)).toMatch(/applied maxBackends/);
    fs.writeFileSync(file, '{ not json');
    child.kill('SIGHUP');
    expect(await line(/SIGHUP: BEEHIVE_ERR_PROXY_/)).toMatch(/still serving the previous configuration/);
    expect(await query('SELECT 2 AS two')).toEqual({ two: 2 });
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
