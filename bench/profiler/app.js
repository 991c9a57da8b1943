'use strict';
// The busy process bench/profiler/compare.js profiles: an Express app whose handler renders a
// Handlebars template and a Markdown snippet (lodash, marked, handlebars loaded: a realistic amount
// of compiled code for V8 to list when a profile starts). The parent drives it over IPC:
//   {cmd:'mark'}   → {cpuUs, served}                     CPU time and requests since start
//   {cmd:'start'}  → {startMs, delayMaxMs, afterMaxMs, baseMaxMs}   profiler start; event-loop delay before, around, after
//   {cmd:'stop'}   → {stopMs, serialiseMs, bytes, samples}
//   dry: true on start/stop: the same waits and replies without the profiler (the phases without it)
// PROFILER=none | inspector | v8p-lazy | v8p-eager | v8p-eager-kept; V8_PROFILER_NEXT=path of an installed v8-profiler-next.
const express = require('express');
const Handlebars = require('handlebars');
const { marked } = require('marked');
const _ = require('lodash');
const { monitorEventLoopDelay } = require('node:perf_hooks');

const SAMPLING_US = 1000; // the agent's default sampling interval

function profiler(kind) {
  // The control: the same phases and calls with no profiler, so the table shows what the method itself reads.
  if (kind === 'none') return { start: () => {}, stop: () => ({ nodes: [], samples: [], timeDeltas: [] }), free: () => {} };
  if (kind === 'inspector') {
    const inspector = require('node:inspector');
    const session = new inspector.Session();
    session.connect();
    // In-process, Profiler.* calls back synchronously (as agent/profiler/inspector-session.ts relies on).
    const post = (method, params) => {
      let out;
      let error;
      session.post(method, params, (err, res) => { error = err; out = res; });
      if (error) throw error;
      return out;
    };
    post('Profiler.enable');
    post('Profiler.setSamplingInterval', { interval: SAMPLING_US });
    return { start: () => post('Profiler.start'), stop: () => post('Profiler.stop').profile, free: () => {} };
  }
  const p = require(process.env.V8_PROFILER_NEXT);
  p.setGenerateType(1); // the same profile format as the inspector's (nodes with callFrame, samples, timeDeltas)
  p.setSamplingInterval(SAMPLING_US);
  const mode = kind.startsWith('v8p-eager') ? 1 : 0; // 1: V8's eager code logging
  // By default (cleanup limit 0) the addon disposes its CpuProfiler after every profile, and the
  // next start builds a new one (listing the code again); a limit keeps it, eager logging on.
  if (kind === 'v8p-eager-kept') p.setProfilesCleanupLimit(1_000_000);
  return { start: () => p.startProfiling('window', true, mode), stop: () => p.stopProfiling('window'), free: (profile) => profile.delete() };
}

const prof = profiler(process.env.PROFILER);
const page = Handlebars.compile('<ul>{{#each items}}<li class="{{cls}}">{{name}}: {{price}}</li>{{/each}}</ul><div>{{{body}}}</div>');
const md = '# Order\n\nSome *emphasis*, a [link](https://example.com) and a list:\n\n- one\n- two\n- three\n';

const app = express();
let served = 0;
app.get('/page/:n', (req, res) => {
  const n = Number(req.params.n) || 20;
  const items = _.times(n, (i) => ({ name: _.startCase(`item number ${i}`), price: (i * 1.37).toFixed(2), cls: i % 2 ? 'odd' : 'even' }));
  served++;
  res.type('html').send(page({ items, body: marked.parse(md) }));
});

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const ms = (h) => h.max / 1e6;
const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));

let current;
process.on('message', async (m) => {
  if (m.cmd === 'mark') {
    const u = process.cpuUsage();
    process.send({ cpuUs: u.user + u.system, served });
  } else if (m.cmd === 'start') {
    const wait = (t) => new Promise((r) => setTimeout(r, t));
    // Under the same load: the loop's worst delay in 300 ms before the start (the baseline), in
    // 300 ms around it (its own stall included: the histogram needs a tick after a reset before it
    // records, hence the 20 ms first), and in 300 ms after it (sampling running).
    delay.reset();
    await wait(300);
    const baseMaxMs = ms(delay);
    delay.reset();
    await wait(20);
    const t0 = performance.now();
    if (!m.dry) prof.start();
    const startMs = performance.now() - t0;
    await wait(280);
    const delayMaxMs = ms(delay);
    delay.reset();
    await wait(300);
    process.send({ startMs, delayMaxMs, afterMaxMs: ms(delay), baseMaxMs });
  } else if (m.cmd === 'stop' && m.dry) {
    process.send({});
  } else if (m.cmd === 'stop') {
    const t0 = performance.now();
    current = prof.stop();
    const t1 = performance.now();
    const json = JSON.stringify(current);
    const t2 = performance.now();
    process.send({ stopMs: t1 - t0, serialiseMs: t2 - t1, bytes: Buffer.byteLength(json), samples: current.samples?.length, nodes: current.nodes?.length });
    prof.free(current);
    current = undefined;
  }
});
