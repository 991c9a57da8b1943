/** Stylesheet of the dashboard page (inlined; the page loads nothing from elsewhere). */
export const dashboardCss = String.raw`
:root {
  --bg: #f4f6fa; --card: #ffffff; --line: #e3e8ef; --text: #1b2430; --muted: #66768a;
  --accent: #e8a317; --local: #2f6fdb; --offloaded: #e8a317; --shadow: #8a5cf5;
  --p50: #16a3c7; --p99: #e5484d; --ok: #1f9d63; --warn: #d97706; --bad: #d92d20;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: #141b26; color: #eef2f7; }
header h1 { font-size: 17px; margin: 0; font-weight: 650; letter-spacing: .2px; display: flex; align-items: center; gap: 8px; }
.logo { width: 22px; height: 22px; }
.pill { font-size: 12px; padding: 2px 9px; border-radius: 999px; background: #263246; color: #c9d4e3; }
.pill b { color: #fff; font-weight: 600; }
.spacer { flex: 1; }
.conn { display: flex; align-items: center; gap: 6px; font-size: 12px; color: #c9d4e3; }
.dot { width: 8px; height: 8px; border-radius: 50%; background: #6b7280; }
.dot.on { background: #34d399; box-shadow: 0 0 0 3px rgba(52, 211, 153, .18); }
.dot.off { background: #f87171; }
.token { display: flex; gap: 6px; align-items: center; }
.token input { width: 170px; padding: 5px 8px; border-radius: 6px; border: 1px solid #334155; background: #1e293b; color: #eef2f7; }
button { font: inherit; font-size: 13px; padding: 5px 12px; border-radius: 6px; border: 1px solid #cbd5e1; background: #fff; cursor: pointer; }
header button { border-color: #334155; background: #263246; color: #eef2f7; }
main { padding: 20px 24px 32px; max-width: 1480px; margin: 0 auto; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin-bottom: 16px; }
.kpi, .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; box-shadow: 0 1px 2px rgba(16, 24, 40, .04); }
.kpi { padding: 12px 14px; }
.kpi .label { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .4px; }
.kpi .value { font-size: 22px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }
.kpi .sub { font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
.value.warn { color: var(--warn); } .value.bad { color: var(--bad); }
.card { padding: 14px 16px; }
.card h2 { font-size: 13px; margin: 0 0 8px; font-weight: 600; color: #334155; display: flex; align-items: center; gap: 10px; }
.control { display: flex; align-items: center; gap: 16px; margin-bottom: 16px; flex-wrap: wrap; }
.control input[type=range] { flex: 1; min-width: 220px; accent-color: var(--accent); }
.control .ratio { font-size: 20px; font-weight: 650; width: 64px; text-align: right; font-variant-numeric: tabular-nums; }
.hint { color: var(--muted); font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px; margin-bottom: 16px; }
.legend { display: flex; gap: 12px; font-size: 12px; color: var(--muted); font-weight: 400; margin-left: auto; }
.legend i { display: inline-block; width: 10px; height: 3px; border-radius: 2px; margin-right: 5px; vertical-align: middle; }
.legend i.dash { background: repeating-linear-gradient(90deg, #94a3b8 0 4px, transparent 4px 7px) !important; }
.chart { width: 100%; height: 170px; display: block; }
.chart text { font-size: 11px; fill: #7b8a9e; font-variant-numeric: tabular-nums; }
.chart .grid { stroke: #edf1f6; stroke-width: 1; }
.chart .empty { font-size: 12px; fill: #98a6b8; }
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; padding: 8px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td { padding: 8px 10px; border-bottom: 1px solid #f0f3f7; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; white-space: nowrap; }
tr:hover td { background: #fafbfd; }
select { font: inherit; font-size: 12.5px; padding: 3px 6px; border-radius: 6px; border: 1px solid #cbd5e1; background: #fff; }
.badge { display: inline-block; font-size: 11.5px; padding: 1px 8px; border-radius: 999px; font-weight: 600; }
.badge.candidate { background: #eef2f7; color: #475569; } .badge.shadow { background: #efe9ff; color: #6d3fd8; }
.badge.live { background: #e3f6ec; color: #157347; } .badge.held { background: #fff3dc; color: #9a5b00; }
.badge.blocked { background: #fde8e7; color: #b42318; }
.reason { color: var(--bad); font-size: 12px; } .diff { color: #6d3fd8; font-size: 12px; } .muted { color: var(--muted); }
.toast { position: fixed; right: 20px; bottom: 20px; padding: 10px 14px; border-radius: 8px; background: #141b26; color: #fff; font-size: 13px; opacity: 0; transform: translateY(8px); transition: all .2s; max-width: 420px; }
.toast.show { opacity: 1; transform: none; } .toast.error { background: #b42318; }
`;
