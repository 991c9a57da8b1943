import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { register as globalRegistry } from 'prom-client';
import { createMetrics } from '../index';
import { createMemoryControl } from './fixtures/memory-control';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const tools = require('../../../scripts/debian-tools.js') as { promtool(): string };
const T = 'method="GET",route="/thumb"';

describe('Prometheus metrics', () => {
  it('reads the state on scrape, with method, route and where labels', async () => {
    const c = createMemoryControl();
    const m = createMetrics(c);
    c.setRatio(0.5);
    c.tick(10);
    const text = await m.render();
    expect(text).toContain(`beehive_requests_total{${T},where="local"} 5`);
    expect(text).toContain(`beehive_requests_total{${T},where="offloaded"} 5`);
    expect(text).not.toMatch(/handler="/); // no combined "GET /x" label
    expect(text).toContain('beehive_offload_ratio 0.5');
    expect(text).toContain(`beehive_handler_ratio{${T}} 0.5`); // live, auto
    expect(text).toContain('beehive_handler_ratio{method="GET",route="/health"} 0'); // blocked
    expect(text).toContain('beehive_workers{state="busy"} 1');
    expect(text).toContain('beehive_handler_phase{method="POST",route="/topics/:id/comments",phase="shadow"} 1');
    expect(text).toContain('beehive_event_loop_delay_p99_seconds 0.0015');
    expect(text).toContain('beehive_info{mode="auto",platform="local",version="0.0.0-test"} 1');
    expect(text).toMatch(/# TYPE beehive_requests_total counter/);
    // Counters follow the agent rather than accumulating scrape after scrape.
    c.tick(10);
    expect(await m.render()).toContain(`beehive_requests_total{${T},where="local"} 10`);
  });

  it('exports latency as histograms that aggregate, never as quantile gauges', async () => {
    const c = createMemoryControl();
    c.setRatio(0.5);
    c.tick(10);
    const text = await createMetrics(c).render();
    expect(text).toMatch(/# TYPE beehive_request_duration_seconds histogram/);
    expect(text).not.toContain('quantile=');
    // 5 local runs of 8..16 ms: all above 5 ms, all within 25 ms.
    expect(text).toContain(`beehive_request_duration_seconds_bucket{${T},where="local",le="0.005"} 0`);
    expect(text).toContain(`beehive_request_duration_seconds_bucket{${T},where="local",le="0.025"} 5`);
    expect(text).toContain(`beehive_request_duration_seconds_bucket{${T},where="local",le="+Inf"} 5`);
    expect(text).toContain(`beehive_request_duration_seconds_count{${T},where="offloaded"} 5`);
    expect(text).toMatch(new RegExp(`beehive_request_duration_seconds_sum\\{${T},where="offloaded"\\} 0\\.\\d+`));
  });

  it('counts re-executions, conflicts, divergences, failures by kind and cold starts', async () => {
    const c = createMemoryControl();
    c.setRatio(0.5);
    for (let i = 0; i < 77; i++) c.tick(10);
    c.state.handlers[1].diverged = 2;
    const text = await createMetrics(c).render();
    // 77 seconds: a timeout every 7th, a conflict every 11th; each ran again locally.
    expect(text).toContain(`beehive_failures_total{${T},kind="timeout"} 11`);
    expect(text).toContain(`beehive_conflicts_total{${T},reason="read"} 7`);
    expect(text).toContain(`beehive_reexecuted_total{${T}} 18`);
    expect(text).toContain('beehive_diverged_total{method="POST",route="/topics/:id/comments"} 2');
    expect(text).toContain('beehive_cold_starts_total{platform="local"} 7');
    expect(text).toMatch(/beehive_invocations_total\{platform="local"\} \d+/);
  });

  it('counts busy FaaS workers from the invocations in flight', async () => {
    const c = createMemoryControl();
    c.state.platform = 'lambda';
    c.state.workers = [{ id: 'i-1', state: 'idle', invocations: 9 }];
    c.state.totals.workersBusy = 7;
    const text = await createMetrics(c).render();
    expect(text).toContain('beehive_workers{state="busy"} 7');
  });

  it('passes promtool check metrics', async () => {
    const promtool = tools.promtool();
    const c = createMemoryControl();
    c.setRatio(0.5);
    for (let i = 0; i < 14; i++) c.tick(50);
    const text = await createMetrics(c).render();
    const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    // With the opt-in process metrics, the only remarks are about prom-client's own nodejs_* names
    // (gauges named *_total), none about ours.
    const withProcess = spawnSync(promtool, ['check', 'metrics'], { input: await createMetrics(c, { defaultMetrics: true }).render(), encoding: 'utf8' });
    const remarks = (withProcess.stdout + withProcess.stderr).split('\n').filter(Boolean);
    for (const line of remarks) expect(line).toMatch(/^nodejs_/);
    // The check is not vacuous: a quantile gauge with a combined label draws its complaints.
    const bad = spawnSync(promtool, ['check', 'metrics'], { input: '# HELP x_seconds a\n# TYPE x_seconds counter\nx_seconds{quantile="0.99"} 1\n', encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
  });

  it('reads the state once per scrape and stays off the global registry', async () => {
    const c = createMemoryControl();
    let reads = 0;
    const get = c.getState;
    c.getState = () => { reads++; return get(); };
    const m = createMetrics(c);
    await m.render();
    expect(reads).toBe(1);
    expect(await globalRegistry.metrics()).not.toContain('beehive_');
  });

  it('adds process metrics on request', async () => {
    const m = createMetrics(createMemoryControl(), { defaultMetrics: true });
    expect(await m.render()).toContain('process_cpu_user_seconds_total');
    expect(await createMetrics(createMemoryControl()).render()).not.toContain('process_cpu_user_seconds_total');
  });

  it('documents every metric it exports, and the Grafana dashboard queries only those', async () => {
    const doc = readFileSync(join(__dirname, '../../../docs/metrics.md'), 'utf8');
    const names = (await createMetrics(createMemoryControl()).registry.getMetricsAsJSON()).map((x) => x.name);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) expect(doc, name).toContain(`\`${name}\``);
    const dash = JSON.parse(readFileSync(join(__dirname, '../../../infra/grafana/beehive.json'), 'utf8'));
    const exprs: string[] = dash.panels.flatMap((p: { targets?: Array<{ expr: string }> }) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(8);
    const known = new Set(names.flatMap((n) => [n, `${n}_bucket`, `${n}_sum`, `${n}_count`]));
    for (const e of exprs) {
      const used = [...e.matchAll(/\b(beehive_[a-z_]+)\b/g)].map((x) => x[1]);
      expect(used.length, e).toBeGreaterThan(0);
      for (const u of used) expect(known, `${u} in ${e}`).toContain(u);
    }
  });

  it('the Grafana dashboard\'s queries are valid PromQL (promtool check rules, with the dashboard variables filled in as Grafana does)', () => {
    const promtool = tools.promtool();
    const dash = JSON.parse(readFileSync(join(__dirname, '../../../infra/grafana/beehive.json'), 'utf8'));
    const exprs: string[] = dash.panels.flatMap((p: { targets?: Array<{ expr: string }> }) => (p.targets ?? []).map((t) => t.expr));
    // Grafana's own interval and the dashboard's multi-value variables (their "All" value is .*).
    const fill = (e: string) => e.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s').replace(/\$(method|route)\b/g, '.*');
    const rules = (list: string[]) => ['groups:', '  - name: dashboard', '    rules:', ...list.flatMap((e, i) => [`      - record: beehive:dashboard_query_${i}`, `        expr: ${JSON.stringify(fill(e))}`])].join('\n') + '\n';
    const dir = mkdtempSync(join(tmpdir(), 'beehive-grafana-'));
    try {
      writeFileSync(join(dir, 'ok.yml'), rules(exprs));
      const ok = spawnSync(promtool, ['check', 'rules', join(dir, 'ok.yml')], { encoding: 'utf8' });
      expect(ok.stdout + ok.stderr, ok.stdout + ok.stderr).toMatch(new RegExp(`SUCCESS: ${exprs.length} rules found`));
      expect(ok.status).toBe(0);
      // The check is not vacuous: a query Grafana would reject too.
      writeFileSync(join(dir, 'bad.yml'), rules(['sum(rate(beehive_requests_total[1m])']));
      expect(spawnSync(promtool, ['check', 'rules', join(dir, 'bad.yml')], { encoding: 'utf8' }).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
