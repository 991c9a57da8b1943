'use strict';
// The elastic benchmark's chart, hand-written SVG: per-second p99 (log scale) without BeeHive and
// with it (warm and cold workers), the SLO and the burst; below, the ratio the controller set (each
// decision, 250 ms apart). Bold: the run with the median recovery of the warm scenario.
//
//   node bench/elastic/chart.js bench/results/elastic.json > bench/results/elastic.svg
const fs = require('node:fs');

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f = (x, d = 1) => (x === null || x === undefined ? '—' : Number(x).toFixed(d));
const colors = { off: '#c0392b', warm: '#1f6feb', cold: '#2e9e5b', watch: '#888' };
const labels = { off: 'without BeeHive', warm: 'BeeHive, warm workers', cold: 'BeeHive, cold workers', watch: 'held local' };

function chart(result) {
  const { config: c, summary: s, runs, machine } = result;
  const W = 980;
  const H = 600;
  const L = 70;
  const R = 270;
  const top = { y: 80, h: 300 };
  const bot = { y: 440, h: 110 };
  const total = c.steadyS + c.burstS + c.afterS;
  const x = (t) => L + ((W - L - R) * Math.max(0, Math.min(total, t))) / total;
  const kinds = ['off', 'warm', 'cold', 'watch'].filter((k) => runs.some((r) => r[k]));
  const maxP99 = Math.max(1000, ...runs.flatMap((r) => kinds.flatMap((k) => (r[k]?.rows ?? []).map((q) => q.p99 ?? 0))));
  const yMax = 10 ** Math.ceil(Math.log10(maxP99));
  const yMin = 1;
  const yLog = (v) => top.y + top.h - (top.h * (Math.log10(Math.max(yMin, Math.min(yMax, v))) - Math.log10(yMin))) / (Math.log10(yMax) - Math.log10(yMin));
  const yRatio = (r) => bot.y + bot.h - bot.h * r;
  const key = (r) => r.warm?.recoveryS ?? Infinity;
  const sorted = [...runs].sort((p, q) => key(p) - key(q));
  const main = sorted[(sorted.length - 1) >> 1];
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${L}" y="24" font-size="16" font-weight="bold">${esc(`Burst at ${c.factor}× on elastic workers: per-second p99 without and with BeeHive`)}</text>`);
  out.push(`<text x="${L}" y="44" fill="#444">${esc(`${c.blockMs} ms blocked per request (Atomics.wait), open loop ${s.rate} → ${s.burstRate} req/s (${c.load} × capacity ${f(s.capacityRps, 0)} req/s), SLO ${c.sloMs} ms, ${c.workers} local workers; ${runs.length} run(s), bold = median run`)}</text>`);
  out.push(`<text x="${L}" y="62" fill="#444">${esc(`${machine.cpus} × ${machine.cpu}, node ${machine.node}, load average ${machine.loadavgStart.join(' ')} → ${(machine.loadavgEnd ?? []).join(' ')} (shared machine)`)}</text>`);
  for (const p of [top, bot]) out.push(`<rect x="${x(c.steadyS)}" y="${p.y}" width="${x(c.steadyS + c.burstS) - x(c.steadyS)}" height="${p.h}" fill="#fdf1dc"/>`);
  out.push(`<text x="${x(c.steadyS) + 4}" y="${top.y + 14}" fill="#a66300">burst (${c.factor}×)</text>`);
  for (let v = 1; v <= yMax; v *= 10) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${yLog(v)}" y2="${yLog(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${L - 6}" y="${yLog(v) + 4}" text-anchor="end" fill="#555">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`);
  }
  out.push(`<text x="16" y="${top.y + top.h / 2}" transform="rotate(-90 16 ${top.y + top.h / 2})" text-anchor="middle" fill="#333">p99 latency (log), from scheduled send</text>`);
  out.push(`<line x1="${L}" x2="${W - R}" y1="${yLog(c.sloMs)}" y2="${yLog(c.sloMs)}" stroke="#2a2" stroke-dasharray="6 4" stroke-width="1.5"/>`);
  out.push(`<text x="${L + 4}" y="${yLog(c.sloMs) - 4}" fill="#2a2">SLO ${c.sloMs} ms</text>`);
  for (const v of [0, 0.5, 1]) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${yRatio(v)}" y2="${yRatio(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${L - 6}" y="${yRatio(v) + 4}" text-anchor="end" fill="#555">${v}</text>`);
  }
  out.push(`<text x="16" y="${bot.y + bot.h / 2}" transform="rotate(-90 16 ${bot.y + bot.h / 2})" text-anchor="middle" fill="#333">ratio</text>`);
  for (let t = 0; t <= total; t += 2) {
    out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${bot.y + bot.h}" y2="${bot.y + bot.h + 4}" stroke="#555"/>`);
    out.push(`<text x="${x(t)}" y="${bot.y + bot.h + 18}" text-anchor="middle" fill="#555">${t} s</text>`);
    out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${top.y + top.h}" y2="${top.y + top.h + 4}" stroke="#555"/>`);
  }
  out.push(`<rect x="${L}" y="${top.y}" width="${W - L - R}" height="${top.h}" fill="none" stroke="#999"/>`);
  out.push(`<rect x="${L}" y="${bot.y}" width="${W - L - R}" height="${bot.h}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${L}" y="${bot.y - 10}" fill="#333" font-weight="bold">Offloading ratio set by the burst controller (every decision, 250 ms apart)</text>`);
  const p99Path = (rows) => rows.filter((q) => q.p99 !== null).map((q, i) => `${i ? 'L' : 'M'}${x(q.t + 0.5).toFixed(1)},${yLog(q.p99).toFixed(1)}`).join(' ');
  const ratioPath = (pts) => {
    let d = `M${x(0).toFixed(1)},${yRatio(0).toFixed(1)}`;
    for (const p of pts) if (p.t >= 0) d += ` H${x(p.t).toFixed(1)} V${yRatio(p.ratio).toFixed(1)}`;
    return d + ` H${x(total).toFixed(1)}`;
  };
  for (const r of runs) {
    const bold = r === main;
    for (const k of kinds) {
      if (!r[k]) continue;
      out.push(`<path d="${p99Path(r[k].rows)}" fill="none" stroke="${colors[k]}" stroke-width="${bold ? 2.5 : 1}" opacity="${bold ? 1 : 0.35}"/>`);
      if (k !== 'off' && r[k].decisions?.length) out.push(`<path d="${ratioPath(r[k].decisions)}" fill="none" stroke="${colors[k]}" stroke-width="${bold ? 2 : 1}" opacity="${bold ? 1 : 0.35}"/>`);
    }
  }
  const lx = W - R + 12;
  let ly = top.y + 20;
  for (const k of kinds) {
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${colors[k]}" stroke-width="2.5"/>`);
    out.push(`<text x="${lx + 28}" y="${ly}">${labels[k]}</text>`);
    ly += 18;
  }
  ly += 8;
  const rec = (v, rs) => (v === null || v === undefined ? `never (${(rs ?? []).filter((q) => q === null).length}/${(rs ?? []).length})` : `${f(v, 2)} s`);
  const lines = [['Onset → p99 ≤ SLO (median)', '']];
  for (const k of kinds) lines.push([`  ${labels[k]}:`, rec(s[k].recoveryS, s[k].recoveryRuns)]);
  lines.push(['Steady-state p99 (median)', '']);
  for (const k of kinds) lines.push([`  ${labels[k]}:`, `${f(s[k].steadyP99)} ms`]);
  lines.push(['Ratio back to 0 after the burst', '']);
  for (const k of kinds.filter((q) => q !== 'off')) lines.push([`  ${labels[k]}:`, rec(s[k].ratioZeroAfterEndS, s[k].ratioZeroRuns)]);
  for (const [k, v] of lines) {
    out.push(`<text x="${lx}" y="${ly}" ${v ? '' : 'font-weight="bold"'} fill="#333">${esc(k)}${v ? ` <tspan font-weight="bold">${esc(v)}</tspan>` : ''}</text>`);
    ly += 16;
  }
  out.push(`<text x="${L}" y="${H - 12}" fill="#666" font-size="11">${esc(`Recovery: from the onset until every ${c.windowMs} ms window (by scheduled send time) has p99 ≤ SLO for ${c.sustainMs / 1000} s. bench/elastic/run.js`)}</text>`);
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
