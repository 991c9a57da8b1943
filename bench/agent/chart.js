'use strict';
// A hand-written SVG (no dependencies): per scenario, each run's figure as a dot and the median as
// a bar, normalised to its target so that every panel reads the same way: left of the line is met.

function panel(y, label, values, target, unit) {
  const max = Math.max(target * 2, ...values.filter(Number.isFinite)) * 1.05;
  const x = (v) => 260 + (v / max) * 420;
  const med = [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const dots = values.filter(Number.isFinite).map((v) => `<circle cx="${x(v).toFixed(1)}" cy="${y + 12}" r="3" fill="#555"/>`).join('');
  return [
    `<text x="10" y="${y + 16}" font-size="12">${label}</text>`,
    `<rect x="260" y="${y + 4}" width="${Math.max(0, x(med) - 260).toFixed(1)}" height="16" fill="${med <= target ? '#7fbf7f' : '#e08080'}"/>`,
    dots,
    `<line x1="${x(target).toFixed(1)}" y1="${y}" x2="${x(target).toFixed(1)}" y2="${y + 24}" stroke="#000" stroke-dasharray="3,2"/>`,
    `<text x="690" y="${y + 16}" font-size="11">${med.toFixed(3)} ${unit} (target ${target})</text>`,
  ].join('');
}

function chart(results) {
  const p = [];
  const s = results.scenarios;
  if (s.overhead) p.push(['throughput loss at ratio 0 (1 − ratio)', s.overhead.runs.map((r) => 1 - r.ratio), 0.02, '']);
  if (s.offloadLatency) {
    p.push(['offloaded p50 − local p50', s.offloadLatency.runs.map((r) => r.p50DeltaMs), 1.5, 'ms']);
    p.push(['offloaded p99 / local p99', s.offloadLatency.runs.map((r) => r.p99Ratio), 1.1, '×']);
    for (const id of Object.keys(s.offloadLatency.capture)) p.push([`capture p50 ${id}`, s.offloadLatency.runs.map((r) => r.capture?.[id]?.captureP50 ?? NaN), 1, 'ms']);
  }
  if (s.fetch) p.push(['sync fallback fetch p50', s.fetch.runs.map((r) => r.p50), 0.3, 'ms']);
  const h = 40 + p.length * 32;
  const body = p.map(([l, v, t, u], i) => panel(30 + i * 32, l, v, t, u)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="${h}" font-family="sans-serif">
<text x="10" y="18" font-size="13" font-weight="bold">Agent benchmarks: bar = median, dots = runs, dashed line = target (left of it is met)</text>
${body}
</svg>
`;
}

module.exports = { chart };
