/**
 * Browser-side chart drawing for the dashboard, as a script string: inline SVG line charts with
 * grid, axes, reference lines and gaps where samples are missing. No library, no CDN.
 */
export const dashboardChartsJs = String.raw`
var SVGNS = 'http://www.w3.org/2000/svg';
function el(tag, attrs, parent) {
  var e = document.createElementNS(SVGNS, tag);
  for (var k in attrs) e.setAttribute(k, String(attrs[k]));
  if (parent) parent.appendChild(e);
  return e;
}
// A round step (1, 2, 2.5, 5 x 10^k) giving 3 to 5 grid lines: integers stay integers.
function niceStep(v, integer) {
  if (!(v > 0)) return integer ? 1 : 0.25;
  var raw = v / 4, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
  var step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
  return integer ? Math.max(1, Math.ceil(step)) : step;
}
function fmtAge(s) {
  if (s <= 0) return 'now';
  return s >= 60 ? '-' + Math.floor(s / 60) + ':' + String(Math.round(s % 60)).padStart(2, '0') : '-' + Math.round(s) + 's';
}
// opts: { t0, t1, gapMs, lines: [{ values: [[t, v]], color, dash, step, fill }], refs: [{ v, label }], yMax, integer, fmt }
function drawChart(svg, opts) {
  var w = svg.clientWidth || 600, h = svg.clientHeight || 170;
  var L = 52, R = 10, T = 8, B = 20, pw = w - L - R, ph = h - T - B;
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
  var max = opts.yMax || 0, n = 0;
  opts.lines.forEach(function (l) { l.values.forEach(function (p) { n++; if (p[1] > max) max = p[1]; }); });
  (opts.refs || []).forEach(function (r) { if (r.v > max) max = r.v; });
  var step = opts.yMax ? opts.yMax / 4 : niceStep(max * 1.05, opts.integer);
  var divs = opts.yMax || !(max > 0) ? 4 : Math.max(1, Math.ceil(max * 1.05 / step));
  max = opts.yMax || step * divs;
  var x = function (t) { return L + (t - opts.t0) / (opts.t1 - opts.t0) * pw; };
  var y = function (v) { return T + ph - Math.min(v, max) / max * ph; };
  for (var i = 0; i <= divs; i++) {
    var gv = step * i, gy = y(gv);
    el('line', { x1: L, x2: w - R, y1: gy, y2: gy, 'class': 'grid' }, svg);
    el('text', { x: L - 6, y: gy + 4, 'text-anchor': 'end' }, svg).textContent = opts.fmt(gv);
  }
  var span = (opts.t1 - opts.t0) / 1000;
  [0, 0.5, 1].forEach(function (f, k) {
    el('text', { x: L + f * pw, y: h - 5, 'text-anchor': ['start', 'middle', 'end'][k] }, svg).textContent = fmtAge(span * (1 - f));
  });
  (opts.refs || []).forEach(function (r) {
    el('line', { x1: L, x2: w - R, y1: y(r.v), y2: y(r.v), stroke: '#94a3b8', 'stroke-width': 1.2, 'stroke-dasharray': '5 4' }, svg);
    el('text', { x: w - R - 2, y: y(r.v) - 4, 'text-anchor': 'end' }, svg).textContent = r.label;
  });
  if (n < 2) {
    el('text', { x: L + pw / 2, y: T + ph / 2, 'text-anchor': 'middle', 'class': 'empty' }, svg).textContent = 'collecting samples\u2026';
    svg.removeAttribute('data-drawn');
    return;
  }
  opts.lines.forEach(function (l) {
    var segs = [], cur = [], prevT = null;
    l.values.forEach(function (p) {
      if (p[0] < opts.t0) return;
      if (prevT !== null && p[0] - prevT > opts.gapMs) { segs.push(cur); cur = []; }
      if (l.step && cur.length) cur.push([x(p[0]), cur[cur.length - 1][1]]);
      cur.push([x(p[0]), y(p[1])]);
      prevT = p[0];
    });
    segs.push(cur);
    segs.forEach(function (s) {
      if (s.length < 2) return;
      var pts = s.map(function (q) { return q[0].toFixed(1) + ',' + q[1].toFixed(1); }).join(' ');
      if (l.fill) {
        el('polygon', { points: s[0][0].toFixed(1) + ',' + (T + ph) + ' ' + pts + ' ' + s[s.length - 1][0].toFixed(1) + ',' + (T + ph),
          fill: l.color, 'fill-opacity': 0.09, stroke: 'none' }, svg);
      }
      el('polyline', { points: pts, fill: 'none', stroke: l.color, 'stroke-width': l.width || 1.8,
        'stroke-linejoin': 'round', 'stroke-dasharray': l.dash || 'none' }, svg);
    });
  });
  svg.setAttribute('data-drawn', String(n));
}
`;
