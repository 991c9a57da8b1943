/**
 * Prometheus metrics in a Registry of their own (never prom-client's global one, which the app may
 * use). Values are read from plain counters at scrape time, so the data path pays nothing.
 */
import { Registry, Gauge, Counter } from 'prom-client';
import type { ProxyContext } from './context';

export function createMetrics(ctx: ProxyContext): Registry {
  const registry = new Registry();
  const { stats, pool, sessions } = ctx;
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });

  gauge('beehive_proxy_clients', 'Client connections open now.', () => sessions.size);
  counter('beehive_proxy_client_connections_total', 'Client connections accepted.', () => stats.clientsTotal);
  new Gauge({
    name: 'beehive_proxy_backends',
    help: 'Server connections by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'in_use' }, pool.inUse);
      this.set({ state: 'idle' }, pool.idleCount);
    },
  });
  gauge('beehive_proxy_pinned_sessions', 'Clients pinned to a backend by session state.', () => {
    let n = 0;
    for (const s of sessions.all()) if (s.pinned) n++;
    return n;
  });
  gauge('beehive_proxy_pool_waiting', 'Clients waiting for a backend now.', () => pool.waiting);
  counter('beehive_proxy_pool_waits_total', 'Backend requests that had to wait.', () => pool.waitsTotal);
  new Counter({
    name: 'beehive_proxy_handoffs_total',
    help: 'Hand-offs by outcome.',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: 'prepared' }, ctx.handoffs.prepared);
      this.inc({ result: 'claimed' }, stats.handoffsClaimed);
      this.inc({ result: 'completed' }, stats.handoffsCompleted);
      this.inc({ result: 'aborted' }, stats.handoffsAborted);
      this.inc({ result: 'rejected' }, stats.handoffsRejected);
      this.inc({ result: 'finished_commit' }, stats.handoffsFinishCommit);
      this.inc({ result: 'finished_rollback' }, stats.handoffsFinishRollback);
      this.inc({ result: 'finish_timeout' }, stats.handoffsFinishTimeout);
    },
  });
  gauge('beehive_proxy_shadow_sessions', 'Clients in a shadow session now.', () => {
    let n = 0;
    for (const s of sessions.all()) if (s.shadow?.kind === 'shadow') n++;
    return n;
  });
  counter('beehive_proxy_shadow_sessions_total', 'Shadow sessions begun.', () => stats.shadowTotal);
  new Counter({
    name: 'beehive_proxy_bytes_total',
    help: 'Bytes relayed, by direction.',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ direction: 'from_clients' }, stats.bytesFromClients);
      this.inc({ direction: 'to_clients' }, stats.bytesToClients);
    },
  });
  new Counter({
    name: 'beehive_proxy_errors_total',
    help: 'Errors by kind.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, n] of stats.errors) this.inc({ kind }, n);
      if (pool.connectErrors) this.inc({ kind: 'upstream_connect_attempt' }, pool.connectErrors);
    },
  });
  return registry;
}
