'use strict';
// The channel under unauthenticated load: a ChannelServer configured as the agent configures it
// (64 MiB frames once authenticated) alone in a child process; eight peers at once each send a
// WebSocket upgrade without credentials and stream a 64 MiB frame behind it without waiting.
// Measures the server's peak RSS growth (VmHWM, Linux) and how long each peer waits for its answer.
//
//   node bench/agent/channel-preauth.js [--runs 5] [--dist path/to/dist] [--out bench/results]
//
// `--dist` points at another build (say, one from before the channel authenticated at the upgrade)
// to compare. Writes results/channel-preauth.{json,md}.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');
const { once } = require('node:events');
const { parseArgs } = require('node:util');
const { machine, median } = require('./lib');

const { values: a } = parseArgs({ options: { runs: { type: 'string', default: '5' }, dist: { type: 'string' }, out: { type: 'string' } } });
const DIST = path.resolve(a.dist ?? path.join(__dirname, '../../dist'));
const OUT = path.resolve(a.out ?? path.join(__dirname, '../results'));
const PEERS = 8;
const FRAME = 64 * 1024 * 1024;

async function startServer() {
  const script = `
    const { ChannelServer } = require(${JSON.stringify(path.join(DIST, 'agent/channel/server.js'))});
    const { Invocations } = require(${JSON.stringify(path.join(DIST, 'agent/channel/invocations.js'))});
    const { LockManager } = require(${JSON.stringify(path.join(DIST, 'agent/locks.js'))});
    const { ExportTable } = require(${JSON.stringify(path.join(DIST, 'gc/index.js'))});
    const locks = new LockManager();
    const s = new ChannelServer({ host: '127.0.0.1', port: 0, invocations: new Invocations(locks), locks, exports: new ExportTable(), budget: 1 << 20, appRoot: process.cwd(), maxFrameBytes: 64 * 1024 * 1024 });
    s.listen().then((a) => console.log(JSON.stringify({ port: a.port })));
    setInterval(() => {}, 1 << 30);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(readline.createInterface({ input: child.stdout }), 'line');
  return { child, port: JSON.parse(line).port };
}

const status = (pid, field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

/** One peer: resolves when the server answered (or hung up), with the wait and the answer's first line. */
function peer(port, t0) {
  const chunk = Buffer.alloc(256 * 1024, 0x41);
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let answer = '';
    let written = 0;
    let done = false;
    const finish = (how) => {
      if (done) return;
      done = true;
      s.destroy();
      resolve({ how, ms: performance.now() - t0, first: answer.split('\r\n')[0] });
    };
    s.on('data', (d) => {
      answer += d.toString('latin1');
      if (/\r\n\r\n[^]*\}$/.test(answer)) finish('answered');
    });
    s.on('error', () => finish('reset'));
    s.on('close', () => finish('closed'));
    s.on('connect', () => {
      s.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      const h = Buffer.alloc(14);
      h[0] = 0x82;
      h[1] = 0x80 | 127;
      h.writeBigUInt64BE(BigInt(FRAME - 64), 2);
      s.write(h);
      const pump = () => {
        while (!done && written < FRAME) {
          written += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
      };
      pump();
    });
    setTimeout(() => finish('gave up after 60 s'), 60_000).unref();
  });
}

async function once_() {
  const { child, port } = await startServer();
  try {
    const before = status(child.pid, 'VmHWM');
    const t0 = performance.now();
    const peers = await Promise.all(Array.from({ length: PEERS }, () => peer(port, t0)));
    return { hwmBeforeMB: before, hwmAfterMB: status(child.pid, 'VmHWM'), growthMB: status(child.pid, 'VmHWM') - before, answerMs: median(peers.map((p) => p.ms)), answers: [...new Set(peers.map((p) => `${p.how}: ${p.first}`))] };
  } finally {
    child.kill('SIGKILL');
  }
}

(async () => {
  const runs = [];
  for (let i = 0; i < Number(a.runs); i++) runs.push(await once_());
  const result = {
    scenario: 'channel-preauth',
    dist: DIST,
    machine: machine(),
    peers: PEERS,
    frameMiB: FRAME / 1048576,
    runs,
    median: { growthMB: median(runs.map((r) => r.growthMB)), answerMs: median(runs.map((r) => r.answerMs)), hwmAfterMB: median(runs.map((r) => r.hwmAfterMB)) },
  };
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'channel-preauth.json'), JSON.stringify(result, null, 2) + '\n');
  const md = [
    `# Channel: ${PEERS} unauthenticated peers, ${FRAME / 1048576} MiB frame each`,
    '',
    `${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}, load ${result.machine.loadavg.join(' ')}; build: \`${DIST}\``,
    '',
    '| run | peak RSS before (MB) | peak RSS after (MB) | growth (MB) | median wait for the answer (ms) | answers |',
    '| --- | --- | --- | --- | --- | --- |',
    ...runs.map((r, i) => `| ${i + 1} | ${r.hwmBeforeMB.toFixed(0)} | ${r.hwmAfterMB.toFixed(0)} | ${r.growthMB.toFixed(0)} | ${r.answerMs.toFixed(0)} | ${r.answers.join('; ')} |`),
    `| median | | ${result.median.hwmAfterMB.toFixed(0)} | ${result.median.growthMB.toFixed(0)} | ${result.median.answerMs.toFixed(0)} | |`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(OUT, 'channel-preauth.md'), md);
  process.stdout.write(md);
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
