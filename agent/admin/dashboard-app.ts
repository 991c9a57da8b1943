/**
 * Browser-side logic of the dashboard, as a script string: polls /api/state and /api/series,
 * renders KPIs, charts and the handler table, and sends the operator's changes with the token.
 * Data from the agent is only ever inserted as text (handler ids and reasons come from user code).
 */
export const dashboardAppJs = String.raw`
var qs = new URLSearchParams(location.search);
var POLL = Math.min(60000, Math.max(100, Number(qs.get('poll')) || 1000));
var KEEP_MS = 10 * 60 * 1000;
var TOKEN_KEY = 'beehive.adminToken';
var points = [], lastT = null, state = null, windowMs = 5 * 60 * 1000, ratioBusy = false, interval = 1000;
var $ = function (id) { return document.getElementById(id); };

(function takeTokenFromFragment() {
  var m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
})();
function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
// Without a token every change would be refused: the controls say so instead of looking usable.
function showTokenState() {
  var has = !!token();
  $('token').placeholder = has ? 'token saved \u2713' : 'admin token';
  $('ratio').disabled = !has;
  Array.prototype.forEach.call(document.querySelectorAll('#handlers select'), function (s) { if (!s.dataset.busy) s.disabled = !has; });
  if (!has) text('ratio-hint', 'read only: enter the admin token (BEEHIVE_ADMIN_TOKEN) to change the ratio or a mode');
}

function toast(text, isError) {
  var t = $('toast');
  t.textContent = text;
  t.className = 'toast show' + (isError ? ' error' : '');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(function () { t.className = 'toast'; }, 3500);
}
function fmt(v, digits) {
  if (v === undefined || v === null || !isFinite(v)) return '\u2013';
  var a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
  return a >= 100 || digits === 0 ? String(Math.round(v)) : v.toFixed(digits === undefined ? 1 : digits);
}
function fmtMs(v) { return v >= 1000 ? fmt(v / 1000, 2) + ' s' : fmt(v, v < 10 ? 1 : 0) + ' ms'; }
function fmtUsd(v) { return '$' + (v < 1 ? v.toFixed(4) : v.toFixed(2)); }
function pct(v) { return Math.round(v * 100) + '%'; }
function text(id, v) { var e = $(id); if (e.textContent !== v) e.textContent = v; }

function put(path, body) {
  return fetch(path, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-beehive-client': 'dashboard', authorization: 'Bearer ' + token() },
    body: JSON.stringify(body) }).then(function (r) {
    return r.json().then(function (j) {
      if (!r.ok) throw new Error((j.error && j.error.message) || ('HTTP ' + r.status));
      return j;
    });
  });
}

function renderKpis(s) {
  var last = points[points.length - 1] || {};
  var t = s.totals;
  text('mode', s.mode); text('platform', s.platform);
  text('k-ratio', pct(s.ratio));
  // What actually ran on workers: the ratio only applies to live, selected handlers.
  var served = (last.localRps || 0) + (last.offloadedRps || 0);
  text('k-ratio-sub', served > 0 ? pct((last.offloadedRps || 0) / served) + ' of requests offloaded now' : 'no requests now');
  text('k-reexec', fmt(last.reexecutedPs || 0));
  $('k-reexec').className = 'value' + ((last.reexecutedPs || 0) > 0 ? ' warn' : '');
  text('k-reexec-sub', fmt(t.reexecuted || 0, 0) + ' total \u00b7 ' + fmt(t.conflicts || 0, 0) + ' conflicts (' + fmt(t.retried || 0, 0) + ' retried on workers) \u00b7 ' + fmt(t.diverged || 0, 0) + ' diverged');
  text('k-failures', fmt(t.failures, 0));
  $('k-failures').className = 'value' + ((last.failuresPs || 0) > 0 ? ' bad' : '');
  text('k-failures-sub', kinds(t.failuresByKind) || 'none');
  text('k-cold', fmt(t.coldStarts || 0, 0));
  text('k-cold-sub', 'of ' + fmt(t.invocations || 0, 0) + ' invocations');
  text('k-rps', fmt((last.localRps || 0) + (last.offloadedRps || 0)));
  text('k-rps-sub', fmt(last.localRps || 0) + ' local \u00b7 ' + fmt(last.offloadedRps || 0) + ' offloaded');
  text('k-p99', fmtMs(t.latency.p99));
  $('k-p99').className = 'value' + (t.latency.p99 > s.sloMs ? ' bad' : t.latency.p99 > 0.8 * s.sloMs ? ' warn' : '');
  text('k-p99-sub', 'p50 ' + fmtMs(t.latency.p50) + ' \u00b7 SLO ' + fmtMs(s.sloMs));
  text('k-elu', pct(t.elu));
  $('k-elu').className = 'value' + (t.elu > 0.9 ? ' bad' : t.elu > 0.7 ? ' warn' : '');
  text('k-elu-sub', 'loop delay p99 ' + fmtMs(t.loopDelayP99));
  text('k-inflight', fmt(t.inFlight, 0));
  var busy = t.workersBusy !== undefined ? t.workersBusy : s.workers.filter(function (w) { return w.state === 'busy'; }).length;
  var starting = s.workers.filter(function (w) { return w.state === 'starting'; }).length;
  if (s.platform === 'local') {
    text('k-workers', busy + ' / ' + s.workers.length);
    text('k-workers-sub', 'busy / total' + (starting ? ' \u00b7 ' + starting + ' starting' : ''));
  } else {
    // A FaaS platform reports no idle instances: busy = invocations in flight.
    text('k-workers', String(busy));
    text('k-workers-sub', 'busy (invocations in flight) \u00b7 ' + s.workers.length + ' instances seen');
  }
  var by = function (p) { return s.handlers.filter(function (h) { return h.phase === p; }).length; };
  text('k-handlers', by('live') + ' live');
  text('k-handlers-sub', by('shadow') + ' shadow \u00b7 ' + s.handlers.length + ' total');
  text('k-cost', fmtUsd(t.cost.usd));
  text('k-cost-sub', fmt(t.cost.gbSeconds, 2) + ' GB-s billed');
  if (!ratioBusy) { $('ratio').value = String(Math.round(s.ratio * 100)); text('ratio-value', pct(s.ratio)); }
  if (token()) text('ratio-hint', s.mode === 'auto' ? 'auto mode: the burst controller may change the ratio again at its next period'
    : s.mode === 'manual' ? 'manual mode: the ratio stays where you set it' : 'mode ' + s.mode);
}
function kinds(byKind) {
  return Object.keys(byKind || {}).filter(function (k) { return byKind[k] > 0; })
    .sort(function (a, b) { return byKind[b] - byKind[a]; }).map(function (k) { return k + ' ' + fmt(byKind[k], 0); }).join(' \u00b7 ');
}
function pair(l) { return l && l.count ? fmtMs(l.p50) + ' / ' + fmtMs(l.p99) : '\u2013'; }
function renderEvents(s) {
  var body = $('events'), list = (s.events || []).slice(-12).reverse();
  var key = list.map(function (e) { return e.at + e.what + e.value; }).join('|');
  if (body.dataset.key === key) return;
  body.dataset.key = key;
  while (body.firstChild) body.removeChild(body.firstChild);
  list.forEach(function (e) {
    var tr = document.createElement('tr');
    var what = e.what === 'handler-mode' ? 'mode of ' + e.handler : e.what === 'start' ? 'agent started' : 'ratio';
    var show = function (v) { return typeof v === 'number' ? pct(v) : String(v); };
    var change = e.what === 'start' ? 'mode ' + e.value : (e.from !== undefined ? show(e.from) + ' \u2192 ' : '') + show(e.value);
    [new Date(e.at).toLocaleTimeString(), what, change, e.by, e.remote || ''].forEach(function (v, i) {
      var td = document.createElement('td'); td.textContent = v; if (i === 0) td.className = 'num'; tr.appendChild(td);
    });
    body.appendChild(tr);
  });
}

function cell(tr, i, cls) {
  while (tr.children.length <= i) tr.appendChild(document.createElement('td'));
  var td = tr.children[i];
  if (cls !== undefined && td.className !== cls) td.className = cls;
  return td;
}
function renderHandlers(s) {
  var body = $('handlers'), rows = {};
  Array.prototype.forEach.call(body.children, function (tr) { rows[tr.dataset.id] = tr; });
  s.handlers.forEach(function (h, index) {
    var tr = rows[h.id];
    if (!tr) {
      tr = document.createElement('tr');
      tr.dataset.id = h.id;
      cell(tr, 0, 'id').textContent = h.id;
      var sel = document.createElement('select');
      sel.setAttribute('aria-label', 'mode of ' + h.id);
      ['auto', 'off', 'always'].forEach(function (m) { var o = document.createElement('option'); o.value = m; o.textContent = m; sel.appendChild(o); });
      sel.disabled = !token();
      sel.addEventListener('change', function () {
        sel.disabled = true; sel.dataset.busy = '1';
        put('/api/handlers/' + encodeURIComponent(h.id), { mode: sel.value })
          .then(function (r) { toast(h.id + ': mode ' + r.mode); }, function (e) { toast(e.message, true); })
          .then(function () { delete sel.dataset.busy; sel.disabled = !token(); poll(); });
      });
      cell(tr, 1).appendChild(sel);
    }
    delete rows[h.id];
    if (body.children[index] !== tr) body.insertBefore(tr, body.children[index] || null);
    var select = tr.querySelector('select');
    if (!select.dataset.busy && document.activeElement !== select) select.value = h.mode;
    var badge = cell(tr, 2).firstChild || cell(tr, 2).appendChild(document.createElement('span'));
    badge.className = 'badge ' + h.phase; badge.textContent = h.phase;
    cell(tr, 3).textContent = h.selected ? '\u2713' : '';
    [h.local, h.offloaded, h.shadow, h.reexecuted, h.conflicts || 0, h.retried || 0, h.diverged || 0, h.refused || 0].forEach(function (v, k) { cell(tr, 4 + k, 'num').textContent = fmt(v, 0); });
    // Conflicts by reason (read, write, deadlock) on hover.
    cell(tr, 8, 'num').title = kinds(h.conflictsByReason || {});
    var fk = cell(tr, 12, h.failures ? 'reason' : 'muted');
    fk.textContent = h.failures ? kinds(h.failuresByKind) || fmt(h.failures, 0) : '0';
    cell(tr, 13, 'num').textContent = pair(h.latency.local);
    cell(tr, 14, 'num').textContent = pair(h.latency.offloaded);
    var reason = cell(tr, 15, 'reason');
    reason.textContent = h.reason || '';
    var diff = cell(tr, 16, 'diff');
    diff.textContent = h.shadowDiff ? h.shadowDiff.paths.join(', ') + ' (' + new Date(h.shadowDiff.at).toLocaleTimeString() + ')' : '';
    diff.title = h.shadowDiff ? 'local: ' + JSON.stringify(h.shadowDiff.local) + '\noffloaded: ' + JSON.stringify(h.shadowDiff.offloaded) : '';
  });
  for (var id in rows) body.removeChild(rows[id]);
  $('no-handlers').hidden = s.handlers.length > 0;
}

function series(key) { return points.map(function (p) { return [p.t, p[key]]; }); }
function renderCharts() {
  if (!state) return;
  var t1 = points.length ? points[points.length - 1].t : Date.now();
  // A gap is a missing sample: judged against the usual spacing of the points, not only the nominal interval.
  var d = [];
  for (var i = Math.max(1, points.length - 21); i < points.length; i++) d.push(points[i].t - points[i - 1].t);
  d.sort(function (a, b) { return a - b; });
  var base = { t0: t1 - windowMs, t1: t1, gapMs: 3.5 * Math.max(interval, d.length ? d[d.length >> 1] : 0) };
  var num = function (v) { return fmt(v, v === Math.round(v) ? 0 : v < 1 ? 2 : 1); };
  var int = function (v) { return String(Math.round(v)); };
  var ms = function (v) { return fmt(v, v === Math.round(v) ? 0 : 1); };
  function chart(id, lines, extra) {
    var o = Object.assign({}, base, { lines: lines, fmt: num }, extra || {});
    drawChart($(id), o);
  }
  chart('c-rate', [{ values: series('localRps'), color: '#2f6fdb', fill: true }, { values: series('offloadedRps'), color: '#e8a317', fill: true },
    { values: series('shadowRps'), color: '#8a5cf5', dash: '4 3' }]);
  chart('c-latency', [{ values: series('p50'), color: '#16a3c7' }, { values: series('p99'), color: '#e5484d' }],
    { fmt: ms, refs: [{ v: state.sloMs, label: 'SLO ' + fmtMs(state.sloMs) }] });
  chart('c-ratio', [{ values: series('ratio'), color: '#e8a317', step: true, fill: true, width: 2.2 }], { yMax: 1, fmt: pct });
  chart('c-load', [{ values: series('elu'), color: '#475569', fill: true }], { yMax: 1, fmt: pct });
  chart('c-workers', [{ values: series('workersTotal'), color: '#94a3b8', step: true }, { values: series('workersBusy'), color: '#1f9d63', step: true, fill: true }],
    { integer: true, fmt: int });
  chart('c-fallbacks', [{ values: series('reexecutedPs'), color: '#f97316', fill: true }, { values: series('failuresPs'), color: '#d92d20' },
    { values: series('conflictsPs'), color: '#8a5cf5', dash: '4 3' }]);
  chart('c-shadow', [{ values: series('liveHandlers'), color: '#1f9d63', step: true }, { values: series('shadowHandlers'), color: '#8a5cf5', step: true, fill: true }],
    { integer: true, fmt: int });
  chart('c-cost', [{ values: series('costUsd'), color: '#1f9d63', fill: true }], { fmt: function (v) { return v === 0 ? '0' : '$' + Number(v.toPrecision(2)); } });
}

function setConnected(ok) { $('conn-dot').className = 'dot ' + (ok ? 'on' : 'off'); text('conn-text', ok ? 'live' : 'disconnected'); }
var inFlight = false;
function poll() {
  if (inFlight) return;
  inFlight = true;
  var seriesUrl = '/api/series' + (lastT !== null ? '?since=' + lastT : '');
  Promise.all([fetch('/api/state').then(function (r) { return r.json(); }), fetch(seriesUrl).then(function (r) { return r.json(); })])
    .then(function (res) {
      state = res[0];
      interval = res[1].intervalMs || interval;
      res[1].points.forEach(function (p) { points.push(p); lastT = p.t; });
      var cut = (lastT || 0) - KEEP_MS;
      while (points.length && points[0].t < cut) points.shift();
      renderKpis(state); renderHandlers(state); renderEvents(state); renderCharts();
      setConnected(true);
    }, function () { setConnected(false); })
    .then(function () { inFlight = false; });
}

$('ratio').addEventListener('input', function () { ratioBusy = true; text('ratio-value', $('ratio').value + '%'); });
$('ratio').addEventListener('change', function () {
  var r = Number($('ratio').value) / 100;
  put('/api/ratio', { ratio: r }).then(function (j) { toast('ratio set to ' + pct(j.ratio)); }, function (e) { toast(e.message, true); })
    .then(function () { ratioBusy = false; poll(); });
});
$('token-form').addEventListener('submit', function (ev) {
  ev.preventDefault();
  var v = $('token').value.trim();
  if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY);
  $('token').value = '';
  showTokenState();
  toast(v ? 'token saved for this tab' : 'token cleared');
});
$('window').addEventListener('change', function () { windowMs = Number($('window').value) * 1000; renderCharts(); });
window.addEventListener('resize', renderCharts);
showTokenState();
poll();
setInterval(poll, POLL);
`;
