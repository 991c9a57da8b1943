'use strict';
// The BeeHive demo (`npm run demo`): a forum API under load, first with every request served by the
// server, then with half of the requests of its hot handler (the editor's preview) offloaded to
// local worker processes.
// It prints throughput, latency and who served what, checks that the app's state is exactly what
// the requests made it, and exits non-zero when it is not.
//
//   node examples/demo/run-demo.js [--seconds 8] [--connections 4] [--ratio 0.5] [--workers 2] [--routes 'POST /preview'] [--json FILE]
const fs = require('node:fs');
const os = require('node:os');
const crypto = require('node:crypto');
const { parseArgs } = require('node:util');
const autocannon = require('autocannon');
const { ROOT, startPostgres, seed, query, startApp } = require('./infra');
const { postBody, draft, AUTHORS } = require('./seed');

const USAGE = 'usage: run-demo.js [--seconds N] [--connections N] [--ratio R] [--workers N] [--posts N] [--routes LIST] [--json FILE]';
let a;
try {
  ({ values: a } = parseArgs({
    options: {
      seconds: { type: 'string', default: '8' },
      connections: { type: 'string', default: '4' },
      ratio: { type: 'string', default: '0.5' },
      workers: { type: 'string', default: '2' },
      posts: { type: 'string', default: '20' },
      sections: { type: 'string', default: '12' },
      routes: { type: 'string', default: 'POST /preview' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (err) {
  process.stderr.write(`run-demo: ${err.message}\n${USAGE}\n`);
  process.exit(2);
}
if (a.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}
const SECONDS = Number(a.seconds);
const CONNECTIONS = Number(a.connections);
const RATIO = Number(a.ratio);
const POSTS = Number(a.posts);
const SECTIONS = Number(a.sections);
const EXACT = 40; // requests of the exact-count check, all in flight at once
const HOT = 'POST /preview';
const COMMENTS = 'POST /posts/:id/comments';
for (const [k, v, ok] of [
  ['seconds', SECONDS, SECONDS > 0],
  ['connections', CONNECTIONS, Number.isInteger(CONNECTIONS) && CONNECTIONS > 0],
  ['ratio', RATIO, RATIO >= 0 && RATIO <= 1],
  ['workers', Number(a.workers), Number.isInteger(Number(a.workers)) && Number(a.workers) > 0],
  ['posts', POSTS, Number.isInteger(POSTS) && POSTS > 0],
  ['sections', SECTIONS, Number.isInteger(SECTIONS) && SECTIONS > 0],
]) {
  if (!ok) {
    process.stderr.write(`run-demo: --${k} has a bad value '${v}'\n${USAGE}\n`);
    process.exit(2);
  }
}

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ duration: SECONDS, ...opts }, (err, r) => (err ? reject(err) : resolve(r)));
  });
}

const DRAFTS = AUTHORS.map((name) => JSON.stringify(draft(name, SECTIONS)));

/** The load of one phase: authors previewing drafts (the hot route), a reader, a commenter, a probe. */
async function load(url) {
  let d = 0;
  let n = 0;
  let m = 0;
  const json = { 'content-type': 'application/json' };
  const [preview, posts, comments, health] = await Promise.all([
    cannon({
      url,
      connections: CONNECTIONS,
      requests: [{ method: 'POST', path: '/preview', headers: json, setupRequest: (req) => ({ ...req, body: DRAFTS[d++ % DRAFTS.length] }) }],
    }),
    cannon({ url, connections: 1, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/posts/${(n++ % POSTS) + 1}` }) }] }),
    cannon({
      url,
      connections: 1,
      requests: [
        {
          method: 'POST',
          headers: json,
          setupRequest: (req) => ({ ...req, path: `/posts/${(m % POSTS) + 1}/comments`, body: JSON.stringify({ author: 'demo', text: `comment ${m++}` }) }),
        },
      ],
    }),
    cannon({ url: url + '/health', connections: 1 }),
  ]);
  const pick = (r) => ({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, ok: r['2xx'], bad: r.non2xx + r.errors + r.timeouts });
  return { preview: pick(preview), posts: pick(posts), comments: pick(comments), health: pick(health) };
}

const getJson = async (url) => (await fetch(url)).json();

/**
 * EXACT previews at once, awaited to the last: the previews of their authors must move by exactly EXACT,
 * and every preview of a draft must carry the same ETag and HTML wherever it ran.
 */
async function exactCheck(url) {
  // Authors of their own, so that requests of the load phase still draining cannot move the count.
  const own = DRAFTS.slice(0, 4).map((d, k) => JSON.stringify({ ...JSON.parse(d), author: `exact-${k}` }));
  const count = (s) => Object.entries(s.drafts).reduce((n, [author, d]) => n + (author.startsWith('exact-') ? d.previews : 0), 0);
  const before = count(await getJson(url + '/stats'));
  const rs = await Promise.all(
    Array.from({ length: EXACT }, async (_, i) => {
      const k = i % 4;
      const r = await fetch(`${url}/preview`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: own[k] });
      const body = await r.json();
      const html = crypto.createHash('sha256').update(body.html ?? '').update(body.cover?.data ?? '').digest('hex');
      return { k, status: r.status, etag: r.headers.get('etag'), html };
    }),
  );
  const after = count(await getJson(url + '/stats'));
  const etags = {};
  for (const r of rs) (etags[r.k] ??= new Set()).add(`${r.etag} ${r.html}`);
  return {
    delta: after - before,
    allOk: rs.every((r) => r.status === 200),
    sameRender: Object.values(etags).every((s) => s.size === 1),
    etags: Object.fromEntries(Object.entries(etags).map(([k, s]) => [k, [...s][0]])),
  };
}

async function runPhase(name, env, db, proxyEnv) {
  process.stdout.write(`\n▶ ${name}: ${SECONDS} s of load…\n`);
  await query(db.url, 'TRUNCATE comments');
  const app = await startApp({ ...proxyEnv, BEEHIVE_MODE: 'manual', BEEHIVE_ROUTES: a.routes, ...env });
  try {
    // A few sequential previews first: JIT on the server and, when offloading, code on the workers.
    for (let i = 0; i < 12; i++) {
      const r = await fetch(`${app.url}/preview`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: DRAFTS[i % DRAFTS.length] });
      await r.arrayBuffer();
    }
    const result = await load(app.url);
    const exact = await exactCheck(app.url);
    const stats = await getJson(app.url + '/stats');
    const agent = await app.stop();
    const [{ n: dbComments }] = await query(db.url, 'SELECT count(*)::int AS n FROM comments');
    return { name, env, result, exact, stats, agent, dbComments };
  } catch (err) {
    app.kill();
    err.message += `\napp stderr:\n${app.stderr()}`;
    throw err;
  }
}

function checksOf(phase, expectOffload) {
  const by = Object.fromEntries(phase.agent.handlers.map((h) => [h.id, h]));
  const ran = (id) => (by[id] ? by[id].local + by[id].offloaded : 0);
  const perAuthor = Object.values(phase.stats.drafts).reduce((s, d) => s + d.previews, 0);
  const r = phase.result;
  const bad = r.preview.bad + r.posts.bad + r.comments.bad + r.health.bad;
  const { previews, views, comments } = phase.stats.counters;
  const c = [
    ['no failed request under load', bad === 0, `${bad} failed`],
    [`${EXACT} concurrent previews moved their authors' preview counts by exactly ${EXACT}`, phase.exact.allOk && phase.exact.delta === EXACT, `moved by ${phase.exact.delta}`],
    ['a draft previews the same wherever it ran (ETag, HTML, cover)', phase.exact.sameRender, 'different renders of one draft'],
    ['previews counter = previews the agent counted (local + offloaded)', previews === ran(HOT), `${previews} vs ${ran(HOT)}`],
    ['previews counter = sum of per-author previews (a Map)', previews === perAuthor, `${previews} vs ${perAuthor}`],
    ['views counter = post reads the agent counted', views === ran('GET /posts/:id'), `${views} vs ${ran('GET /posts/:id')}`],
    ['comments counter = comment rows in PostgreSQL = comment requests', comments === phase.dbComments && comments === ran(COMMENTS), `${comments} / ${phase.dbComments} / ${ran(COMMENTS)}`],
  ];
  if (expectOffload) c.push(['some previews ran on workers', (by[HOT]?.offloaded ?? 0) > 0, `${by[HOT]?.offloaded ?? 0} offloaded`]);
  return c.map(([what, ok, detail]) => ({ what, ok, detail }));
}

function table(rows) {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('   ')).join('\n');
}

const f1 = (x) => (typeof x === 'number' ? x.toFixed(1) : '-');

function report(phases, cpus) {
  const [p0, p1] = phases;
  const out = [];
  out.push('', '━━ BeeHive demo: forum API ━━', `machine: ${cpus.length} × ${cpus[0]?.model.trim()}, node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  out.push(`load: ${SECONDS} s per phase; ${CONNECTIONS} connections previewing drafts (~${Math.round(postBody(1, SECTIONS).length / 1024)} KB of Markdown and a cover thumbnail each), 1 reading posts, 1 posting comments, 1 on /health; offloaded routes: ${a.routes}`, '');
  out.push('Client side (autocannon)');
  const rows = [['', ...phases.map((p) => p.name)]];
  for (const [k, label] of [['preview', 'POST /preview'], ['posts', 'GET /posts/:id'], ['comments', 'POST /posts/:id/comments'], ['health', 'GET /health']]) {
    rows.push([`${label}  req/s`, ...phases.map((p) => f1(p.result[k].rps))]);
    rows.push([`${label}  p50 / p99 ms`, ...phases.map((p) => `${p.result[k].p50} / ${p.result[k].p99}`)]);
  }
  out.push(table(rows), '');
  out.push('Server side (agent stats file): who ran each handler, and its latency in ms');
  const hrows = [['handler', 'phase', 'local', 'offloaded', 'failures', 're-run', 'local p50/p99', 'offloaded p50/p99', 'closure KB p50']];
  for (const p of phases) {
    for (const h of p.agent.handlers) {
      const l = h.latency.local;
      const o = h.latency.offloaded;
      hrows.push([h.id, p.short, h.local, h.offloaded, h.failures, h.reexecuted, l.count ? `${f1(l.p50)} / ${f1(l.p99)}` : '-', o.count ? `${f1(o.p50)} / ${f1(o.p99)}` : '-', h.closureBytes.count ? f1(h.closureBytes.p50 / 1024) : '-']);
    }
  }
  out.push(table(hrows), '');
  const hot1 = p1.agent.handlers.find((h) => h.id === HOT);
  if (hot1) {
    const total = hot1.local + hot1.offloaded;
    out.push(`${HOT} with ratio ${RATIO}: ${hot1.offloaded} of ${total} previews (${((100 * hot1.offloaded) / Math.max(1, total)).toFixed(0)} %) ran on ${p1.agent.workers.length || a.workers} workers; previews counted by the app: ${p1.stats.counters.previews}.`);
    out.push(`Throughput of the hot route: ${f1(p0.result.preview.rps)} → ${f1(p1.result.preview.rps)} req/s (${(p1.result.preview.rps / p0.result.preview.rps).toFixed(2)}×). On this ${cpus.length}-core machine the local workers share the server's CPUs; with Lambda or OpenWhisk they would not.`, '');
  }
  out.push('State checks');
  let ok = true;
  for (const p of phases) {
    for (const c of p.checks) {
      ok &&= c.ok;
      out.push(`  ${c.ok ? '✓' : '✗'} [${p.short}] ${c.what}${c.ok ? '' : `  (${c.detail})`}`);
    }
  }
  const sameAcross = Object.keys(p0.exact.etags).every((id) => p0.exact.etags[id] === p1.exact.etags[id]);
  ok &&= sameAcross;
  out.push(`  ${sameAcross ? '✓' : '✗'} the same drafts preview identically with and without offloading`);
  out.push('', ok ? 'All checks passed.' : 'SOME CHECKS FAILED.');
  return { text: out.join('\n') + '\n', ok, sameAcross };
}

async function main() {
  const t0 = Date.now();
  const cpus = os.cpus();
  process.stdout.write(`Starting an embedded PostgreSQL and the BeeHive proxy… (root ${ROOT})\n`);
  const { startProxy } = require('../../dist/proxy');
  const db = await startPostgres();
  let proxy;
  try {
    await seed(db.url, { count: POSTS, sections: 8 });
    const token = crypto.randomBytes(24).toString('hex');
    proxy = await startProxy({ upstream: db.url, listen: { port: 0 }, maxBackends: 8, control: { port: 0, token } });
    const port = proxy.address.port;
    const proxyEnv = {
      DATABASE_URL: `postgres://postgres:${db.password}@127.0.0.1:${port}/postgres`,
      BEEHIVE_PROXY_URL: `postgres://127.0.0.1:${port}/postgres`,
      BEEHIVE_PROXY_CONTROL: proxy.controlUrl,
      BEEHIVE_PROXY_CONTROL_TOKEN: token,
    };
    const phases = [];
    phases.push({ ...(await runPhase('local only (ratio 0)', { BEEHIVE_RATIO: '0' }, db, proxyEnv)), short: 'ratio 0' });
    phases.push({ ...(await runPhase(`offloading (ratio ${RATIO}, ${a.workers} workers)`, { BEEHIVE_RATIO: String(RATIO), BEEHIVE_WORKERS: a.workers }, db, proxyEnv)), short: `ratio ${RATIO}` });
    phases[0].checks = checksOf(phases[0], false);
    phases[1].checks = checksOf(phases[1], RATIO > 0);
    const { text, ok, sameAcross } = report(phases, cpus);
    process.stdout.write(text + `(${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    if (a.json) {
      const slim = phases.map(({ name, short, result, exact, stats, agent, dbComments, checks }) => ({ name, short, result, exact, counters: stats.counters, dbComments, checks, handlers: agent.handlers }));
      fs.writeFileSync(a.json, JSON.stringify({ ok, sameAcross, seconds: SECONDS, ratio: RATIO, phases: slim }, null, 2));
    }
    process.exitCode = ok ? 0 : 1;
  } finally {
    await proxy?.close().catch(() => {});
    await db.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`run-demo: ${err.stack ?? err}\n`);
  process.exitCode = 1;
});
