'use strict';
// The elastic benchmark's readable table (Markdown), from its result JSON.
const f = (x, d = 1) => (x === null || x === undefined ? '—' : Number(x).toFixed(d));
const never = (x, runs) => (x === null || x === undefined ? `never (${(runs ?? []).filter((v) => v === null).length}/${(runs ?? []).length} runs)` : `${f(x, 2)} s`);

function table(result) {
  const { machine: m, config: c, summary: s } = result;
  const kinds = ['off', 'warm', 'cold', 'watch'].filter((k) => s[k]);
  const label = { off: 'without BeeHive', warm: 'BeeHive, warm workers', cold: 'BeeHive, cold workers', watch: 'handler held local (trace)' };
  const lines = [];
  lines.push(`Elastic burst: ${c.blockMs} ms blocked per request (Atomics.wait), capacity ${f(s.capacityRps)} req/s, open loop ${s.rate} → ${s.burstRate} req/s (${c.load} × capacity, then ${c.factor}×) for ${c.burstS} s, SLO ${c.sloMs} ms, ${c.workers} local workers${c.nice ? `, server at nice ${c.nice}` : ''}${c.rt ? `, runner and server under SCHED_RR ${c.rt} (the workers as normal tasks)` : ''}; ${c.runs} run(s), medians.`);
  lines.push(`Machine: ${m.cpus} × ${m.cpu}, node ${m.node}, load average ${m.loadavgStart.join(' ')} at the start, ${(m.loadavgEnd ?? []).join(' ')} at the end (shared machine: other processes ran beside it).`);
  lines.push('');
  lines.push(`| figure | ${kinds.map((k) => label[k]).join(' | ')} |`);
  lines.push(`| --- | ${kinds.map(() => '---').join(' | ')} |`);
  const row = (name, fn) => lines.push(`| ${name} | ${kinds.map((k) => fn(s[k])).join(' | ')} |`);
  row('steady-state p99 (6 s before the burst)', (x) => `${f(x.steadyP99)} ms`);
  row('highest ratio before the burst', (x) => f(x.maxRatioSteady, 2));
  row('peak per-second p99 in the burst', (x) => `${f(x.peakP99, 0)} ms`);
  row('onset → p99 ≤ SLO for 3 s (250 ms windows)', (x) => never(x.recoveryS, x.recoveryRuns));
  row('ratio first above 0 after the onset', (x) => (x.ratioUpS === null ? '—' : `+${f(x.ratioUpS, 2)} s`));
  row('ratio back to 0 after the burst', (x) => never(x.ratioZeroAfterEndS, x.ratioZeroRuns));
  row('ratio changes in the run', (x) => f(x.ratioChanges, 0));
  row('burst end → p99 ≤ SLO for 3 s', (x) => `${f(x.drainAfterEndS, 2)} s`);
  row('failed requests (all runs)', (x) => String(x.failed));
  row('server CPU (of one core)', (x) => `${f(x.serverCpuPct)} %`);
  row('load average after each run', (x) => x.loadAfter.map((l) => l[0]).join(', '));
  if (s.steadyP99WarmOverOff) {
    lines.push('');
    lines.push(`Steady-state p99 with the controller over without: warm ${f(s.steadyP99WarmOverOff, 2)}×${s.steadyP99ColdOverOff ? `, cold ${f(s.steadyP99ColdOverOff, 2)}×` : ''}.`);
  }
  return lines.join('\n') + '\n';
}

module.exports = { table };
