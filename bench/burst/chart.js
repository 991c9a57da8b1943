'use strict';
// The burst benchmark's chart, hand-written SVG: per-second p99 (log scale) without and with BeeHive,
// the SLO and the burst, and below it the offloading ratio the controller set. The run drawn bold is
// the one with the median recovery time; the other runs are the thin lines.
//
//   node bench/burst/chart.js bench/results/burst.json > bench/results/burst.svg
const fs = require('node:fs');

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f = (x, d = 1) => (x === null || x === undefined ? '—' : Number(x).toFixed(d));

function chart(result) {
  const { config: c, summary: s, runs, machine } = result;
  const W = 960;
  const H = 600;
  const L = 70;
  const R = 250;
  const top = { y: 78, h: 300 };
  const bot = { y: 440, h: 110 };
  const total = c.steadyS + c.burstS + c.afterS;
  const x = (t) => L + ((W - L - R) * t) / total;
  const yMin = 1;
  // Up to the next power of ten above the largest p99 drawn (10 s at least).
  const maxP99 = Math.max(10000, ...runs.flatMap((r) => ['off', 'auto', 'manual'].flatMap((k) => (r[`burst-${k}`]?.rows ?? []).map((x) => x.p99 ?? 0))));
  const yMax = 10 ** Math.ceil(Math.log10(maxP99));
  const yLog = (v) => top.y + top.h - (top.h * (Math.log10(Math.max(yMin, Math.min(yMax, v))) - Math.log10(yMin))) / (Math.log10(yMax) - Math.log10(yMin));
  const yRatio = (r) => bot.y + bot.h - bot.h * r;
  const withBurst = runs.filter((r) => r['burst-auto'] && r['burst-off']);
  const kinds = ['off', 'manual', 'auto'].filter((k) => withBurst.some((r) => r[`burst-${k}`]));
  // The run with the median BeeHive recovery (never recovered counts as longest).
  const key = (r) => r['burst-auto'].recoveryS ?? Infinity;
  const sorted = [...withBurst].sort((p, q) => key(p) - key(q));
  const main = sorted[(sorted.length - 1) >> 1];
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${L}" y="24" font-size="16" font-weight="bold">Burst at 2× load: per-second p99 without and with BeeHive (server on core 0, workers on core 1)</text>`);
  const sub = `open loop ${s.rate} → ${2 * s.rate} req/s (${c.load} × capacity ${f(s.capacityRps, 0)} req/s), ~${c.work} hash rounds per request, SLO ${c.sloMs} ms; ${withBurst.length} run(s), bold = median run`;
  out.push(`<text x="${L}" y="44" fill="#444">${esc(sub)}</text>`);
  out.push(`<text x="${L}" y="62" fill="#444">${esc(`${machine.cpus} × ${machine.cpu}, node ${machine.node}, load average ${machine.loadavgStart.join(' ')} → ${(machine.loadavgEnd ?? []).join(' ')}`)}</text>`);
  // Burst shading in both panels.
  for (const p of [top, bot]) out.push(`<rect x="${x(c.steadyS)}" y="${p.y}" width="${x(c.steadyS + c.burstS) - x(c.steadyS)}" height="${p.h}" fill="#fdf1dc"/>`);
  out.push(`<text x="${x(c.steadyS) + 4}" y="${top.y + 14}" fill="#a66300">burst (2×)</text>`);
  // Axes and grid: p99.
  for (let v = 1; v <= yMax; v *= 10) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${yLog(v)}" y2="${yLog(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${L - 6}" y="${yLog(v) + 4}" text-anchor="end" fill="#555">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`);
  }
  out.push(`<text x="16" y="${top.y + top.h / 2}" transform="rotate(-90 16 ${top.y + top.h / 2})" text-anchor="middle" fill="#333">p99 latency (log), from scheduled send</text>`);
  out.push(`<line x1="${L}" x2="${W - R}" y1="${yLog(c.sloMs)}" y2="${yLog(c.sloMs)}" stroke="#2a2" stroke-dasharray="6 4" stroke-width="1.5"/>`);
  out.push(`<text x="${L + 4}" y="${yLog(c.sloMs) - 4}" fill="#2a2">SLO ${c.sloMs} ms</text>`);
  // Grid: ratio.
  for (const v of [0, 0.5, 1]) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${yRatio(v)}" y2="${yRatio(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${L - 6}" y="${yRatio(v) + 4}" text-anchor="end" fill="#555">${v}</text>`);
  }
  out.push(`<text x="16" y="${bot.y + bot.h / 2}" transform="rotate(-90 16 ${bot.y + bot.h / 2})" text-anchor="middle" fill="#333">ratio</text>`);
  for (let t = 0; t <= total; t += 5) {
    out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${bot.y + bot.h}" y2="${bot.y + bot.h + 4}" stroke="#555"/>`);
    out.push(`<text x="${x(t)}" y="${bot.y + bot.h + 18}" text-anchor="middle" fill="#555">${t} s</text>`);
    out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${top.y + top.h}" y2="${top.y + top.h + 4}" stroke="#555"/>`);
  }
  out.push(`<rect x="${L}" y="${top.y}" width="${W - L - R}" height="${top.h}" fill="none" stroke="#999"/>`);
  out.push(`<rect x="${L}" y="${bot.y}" width="${W - L - R}" height="${bot.h}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${L}" y="${bot.y - 10}" fill="#333" font-weight="bold">Offloading ratio set by the burst controller (BeeHive auto, polled each second)</text>`);

  const colors = { off: '#c0392b', auto: '#1f6feb', manual: '#8e44ad' };
  // Per-second p99 at the middle of its second.
  const p99Path = (rows) =>
    rows
      .filter((r) => r.p99 !== null)
      .map((r, i) => `${i ? 'L' : 'M'}${x(r.t + 0.5).toFixed(1)},${yLog(r.p99).toFixed(1)}`)
      .join(' ');
  const ratioPath = (pts) => {
    let d = `M${x(0).toFixed(1)},${yRatio(pts[0]?.ratio ?? 0).toFixed(1)}`;
    for (const p of pts) d += ` H${x(p.t).toFixed(1)} V${yRatio(p.ratio).toFixed(1)}`;
    return d + ` H${x(total).toFixed(1)}`;
  };
  for (const r of withBurst) {
    const bold = r === main;
    for (const k of kinds) {
      if (!r[`burst-${k}`]) continue;
      out.push(`<path d="${p99Path(r[`burst-${k}`].rows)}" fill="none" stroke="${colors[k]}" stroke-width="${bold ? 2.5 : 1}" opacity="${bold ? 1 : 0.35}"/>`);
    }
    out.push(`<path d="${ratioPath(r['burst-auto'].ratio)}" fill="none" stroke="${colors.auto}" stroke-width="${bold ? 2.5 : 1}" opacity="${bold ? 1 : 0.35}"/>`);
  }
  if (main) {
    // Recovery marker of the median run.
    const rec = main['burst-auto'].recoveryS;
    if (rec !== null && rec !== undefined) {
      const xr = x(c.steadyS + rec);
      out.push(`<line x1="${xr}" x2="${xr}" y1="${top.y}" y2="${top.y + top.h}" stroke="${colors.auto}" stroke-dasharray="2 3"/>`);
      out.push(`<text x="${xr + 4}" y="${top.y + 30}" fill="${colors.auto}">BeeHive back under SLO: +${f(rec, 2)} s</text>`);
    }
  }
  // Legend and figures.
  const lx = W - R + 12;
  let ly = top.y + 30;
  const labels = { off: 'without BeeHive', auto: 'BeeHive auto', manual: 'BeeHive, ratio 0.5' };
  for (const k of kinds) {
    const label = labels[k];
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${colors[k]}" stroke-width="2.5"/>`);
    out.push(`<text x="${lx + 28}" y="${ly}">${label}</text>`);
    ly += 20;
  }
  ly += 10;
  const rec = (v, runsOf) => (v === null || v === undefined ? `not in burst (${(runsOf ?? []).filter((q) => q === null).length}/${(runsOf ?? []).length} runs)` : `${f(v, 2)} s`);
  const lines = [
    ['Recovery (median)', ''],
    ['  without:', rec(s.recoveryOffS, s.recoveryOffRuns)],
    ['  auto:', rec(s.recoveryAutoS, s.recoveryAutoRuns)],
    ...(s.recoveryManualRuns?.some((v) => v !== undefined) ? [['  ratio 0.5:', rec(s.recoveryManualS, s.recoveryManualRuns)]] : []),
    ['Peak p99 (median)', ''],
    ['  without:', `${f(s.peakP99Off, 0)} ms`],
    ['  auto:', `${f(s.peakP99Auto, 0)} ms`],
    ...(s.peakP99Manual ? [['  ratio 0.5:', `${f(s.peakP99Manual, 0)} ms`]] : []),
  ];
  if (s.throughputRatio) {
    lines.push(
      ['Saturated throughput (closed loop)', ''],
      ['  alone, core 0:', `${f(s.throughputAloneRps, 0)} req/s`],
      ['  ratio 0.5, + core 1:', `${f(s.throughput05Rps, 0)} (${f(s.throughputRatio, 2)}×)`],
      ['  auto, + core 1:', `${f(s.throughputAutoRps, 0)} (${f(s.throughputRatioAuto, 2)}×)`],
    );
  }
  for (const [k, v] of lines) {
    out.push(`<text x="${lx}" y="${ly}" ${v ? '' : 'font-weight="bold"'} fill="#333">${esc(k)}${v ? ` <tspan font-weight="bold">${esc(v)}</tspan>` : ''}</text>`);
    ly += 17;
  }
  out.push(`<text x="${L}" y="${H - 12}" fill="#666" font-size="11">${esc(`Recovery: from burst onset until every ${c.windowMs} ms window (by scheduled send time) has p99 ≤ SLO for ${c.sustainMs / 1000} s. bench/burst/run.js`)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

module.exports = { chart };

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: chart.js RESULT.json > CHART.svg\n');
    process.exit(2);
  }
  process.stdout.write(chart(JSON.parse(fs.readFileSync(file, 'utf8'))));
}
