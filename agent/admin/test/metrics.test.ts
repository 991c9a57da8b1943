import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { register as globalRegistry } from 'prom-client';
import { createMetrics } from '../index';
import { createMemoryControl } from './fixtures/memory-control';

describe('Prometheus metrics', () => {
  it('reads the state on scrape, with handler and where labels', async () => {
    const c = createMemoryControl();
    const m = createMetrics(c);
    c.setRatio(0.5);
    c.tick(10);
    const text = await m.render();
    expect(text).toContain('beehive_requests_total{handler="GET /thumb",where="local"} 5');
    expect(text).toContain('beehive_requests_total{handler="GET /thumb",where="offloaded"} 5');
    expect(text).toContain('beehive_offload_ratio 0.5');
    expect(text).toContain('beehive_handler_ratio{handler="GET /thumb"} 0.5'); // live, auto
    expect(text).toContain('beehive_handler_ratio{handler="GET /health"} 0'); // blocked
    expect(text).toContain('beehive_workers{state="busy"} 1');
    expect(text).toContain('beehive_handler_phase{handler="POST /topics/:id/comments",phase="shadow"} 1');
    expect(text).toContain('beehive_event_loop_delay_p99_seconds 0.0015');
    expect(text).toContain('beehive_info{mode="auto",platform="local"} 1');
    expect(text).toMatch(/# TYPE beehive_requests_total counter/);
    // Counters follow the agent rather than accumulating scrape after scrape.
    c.tick(10);
    expect(await m.render()).toContain('beehive_requests_total{handler="GET /thumb",where="local"} 10');
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

  it('documents every metric it exports', async () => {
    const doc = readFileSync(join(__dirname, '../../../docs/metrics.md'), 'utf8');
    const names = (await createMetrics(createMemoryControl()).registry.getMetricsAsJSON()).map((x) => x.name);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) expect(doc, name).toContain(`\`${name}\``);
  });
});
