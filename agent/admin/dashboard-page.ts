/**
 * The dashboard page (`GET /`): one self-contained HTML document with inline style and script.
 * It is a TypeScript string module so that tsc carries it into dist/ with no copy step. The
 * Content-Security-Policy allows exactly this inline script (by hash) and same-origin fetches; inline
 * styles are allowed because the page sets colours in style attributes and never injects markup.
 */
import { createHash } from 'node:crypto';
import { dashboardAppJs } from './dashboard-app';
import { dashboardChartsJs } from './dashboard-charts';
import { dashboardCss } from './dashboard-style';

const script = dashboardChartsJs + dashboardAppJs;
const hash = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

const kpi = (id: string, label: string, sub = true): string =>
  `<div class="kpi"><div class="label">${label}</div><div class="value" id="k-${id}">–</div>` +
  (sub ? `<div class="sub" id="k-${id}-sub">&nbsp;</div>` : '<div class="sub">&nbsp;</div>') + '</div>';

const legend = (items: Array<[string, string, boolean?]>): string =>
  '<span class="legend">' +
  items.map(([name, color, dash]) => `<span><i class="${dash ? 'dash' : ''}" style="background:${color}"></i>${name}</span>`).join('') +
  '</span>';

const chart = (id: string, title: string, items: Array<[string, string, boolean?]>): string =>
  `<div class="card"><h2>${title}${legend(items)}</h2><svg class="chart" id="${id}" role="img" aria-label="${title}"></svg></div>`;

const logo =
  '<svg class="logo" viewBox="0 0 24 24" aria-hidden="true"><path fill="#e8a317" d="M12 2l8.66 5v10L12 22l-8.66-5V7z"/>' +
  '<path fill="#141b26" d="M12 6.5l4.76 2.75v5.5L12 17.5l-4.76-2.75v-5.5z"/></svg>';

// An inline icon: without one the browser asks for /favicon.ico and logs a 404.
const favicon = 'data:image/svg+xml,' + encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#e8a317" d="M12 2l8.66 5v10L12 22l-8.66-5V7z"/></svg>');

export const dashboardHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>BeeHive</title><link rel="icon" href="${favicon}"><style>${dashboardCss}</style></head>
<body>
<header>
  <h1>${logo}BeeHive</h1>
  <span class="pill">mode <b id="mode">–</b></span><span class="pill">platform <b id="platform">–</b></span>
  <span class="spacer"></span>
  <span class="conn"><span class="dot" id="conn-dot"></span><span id="conn-text">connecting</span></span>
  <form class="token" id="token-form" autocomplete="off">
    <input id="token" type="password" placeholder="admin token" aria-label="admin token"><button type="submit">Save</button>
  </form>
</header>
<main>
  <section class="kpis">
    ${kpi('ratio', 'Offload ratio')}${kpi('rps', 'Requests / s')}${kpi('p99', 'Latency p99')}${kpi('elu', 'Event loop')}
    ${kpi('reexec', 'Re-executed / s')}${kpi('failures', 'Failed offloads')}${kpi('cold', 'Cold starts')}
    ${kpi('inflight', 'In flight', false)}${kpi('workers', 'Workers')}${kpi('handlers', 'Handlers')}${kpi('cost', 'FaaS cost')}
  </section>
  <section class="card control">
    <h2 style="margin:0">Offloading ratio</h2>
    <input type="range" id="ratio" min="0" max="100" step="1" value="0" aria-label="offloading ratio" disabled>
    <span class="ratio" id="ratio-value">–</span>
    <span class="hint" id="ratio-hint"></span>
    <span class="spacer"></span>
    <label class="hint">window <select id="window"><option value="60">1 min</option><option value="300" selected>5 min</option><option value="600">10 min</option></select></label>
  </section>
  <section class="charts">
    ${chart('c-rate', 'Requests / s', [['local', 'var(--local)'], ['offloaded', 'var(--offloaded)'], ['shadow', 'var(--shadow)', true]])}
    ${chart('c-latency', 'Latency', [['p50', 'var(--p50)'], ['p99', 'var(--p99)'], ['SLO', '#94a3b8', true]])}
    ${chart('c-ratio', 'Offload ratio', [['ratio', 'var(--offloaded)']])}
    ${chart('c-load', 'Event-loop utilisation', [['ELU', '#475569']])}
    ${chart('c-workers', 'Workers', [['busy', 'var(--ok)'], ['total', '#94a3b8']])}
    ${chart('c-fallbacks', 'Re-run / s', [['re-executed', '#f97316'], ['failures', 'var(--bad)'], ['conflicts', '#8a5cf5', true]])}
    ${chart('c-shadow', 'Shadow status', [['live', 'var(--ok)'], ['in shadow', 'var(--shadow)']])}
    ${chart('c-cost', 'FaaS cost (cumulative)', [['USD', 'var(--ok)']])}
  </section>
  <section class="card">
    <h2>Handlers</h2>
    <div class="table-wrap"><table><thead><tr><th>Handler</th><th>Mode</th><th>Phase</th><th>Sel.</th><th class="num">Local</th><th class="num">Offloaded</th>
    <th class="num">Shadow</th><th class="num">Re-executed</th><th class="num" title="Commits refused (read, write, deadlock): each attempt ran again">Conflicts</th><th class="num" title="Conflicting attempts run again on a worker">Retried</th><th class="num">Diverged</th><th class="num" title="Offload attempts refused with a reason">Refused</th><th>Failures by kind</th>
    <th class="num">Local p50 / p99</th><th class="num">Offloaded p50 / p99</th><th>Not offloadable because</th><th>Last shadow diff</th></tr></thead>
    <tbody id="handlers"></tbody></table></div>
    <p class="hint" id="no-handlers" hidden>No candidate handlers yet: they appear after their first request.</p>
  </section>
  <section class="card">
    <h2>Changes: ratio and modes</h2>
    <div class="table-wrap"><table><thead><tr><th>When</th><th>What</th><th>Change</th><th>By</th><th>From</th></tr></thead>
    <tbody id="events"></tbody></table></div>
  </section>
</main>
<div class="toast" id="toast" role="status" aria-live="polite"></div>
<script>${script}</script>
</body></html>
`;

export const dashboardHeaders: Record<string, string> = {
  'content-security-policy':
    `default-src 'none'; script-src ${hash(script)}; style-src 'unsafe-inline'; ` +
    "connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};
