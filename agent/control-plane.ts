import { parseAdminAddress, startAdminServer, type AdminServer } from './admin';
import { controllerHooks, startController, type Controller } from './controller';
import { createCpuProfiler, selectHandlers, type CpuProfiler } from './profiler';
import type { Agent } from './agent';
import { debug } from './debug';

/**
 * The operator side of a running agent: admin API + dashboard + metrics, and in auto mode the
 * profiler-driven selection (paper §4.3) and the burst controller (§3.4). All timers are unref'd:
 * none of this keeps the app alive.
 */
export class ControlPlane {
  admin?: AdminServer;
  controller?: Controller;
  private cpu?: CpuProfiler;
  private selectTimer?: NodeJS.Timeout;
  private tracked = new Set<string>();

  constructor(private readonly agent: Agent) {}

  async start(): Promise<void> {
    const o = this.agent.options;
    if (o.admin !== 'off') {
      try {
        const { host, port } = parseAdminAddress(o.admin);
        this.admin = await startAdminServer({ control: this.agent, host, port, token: o.adminToken, defaultMetrics: o.processMetrics });
        debug('agent', `admin API and dashboard on ${this.admin.url}`);
      } catch (err) {
        // A busy port must not take the app down: the agent runs without its admin API.
        process.emitWarning(`BeeHive admin API not started on ${o.admin}: ${(err as Error).message}`, { code: 'BEEHIVE_ADMIN' });
      }
    }
    if (o.mode === 'auto') this.startAuto();
  }

  private startAuto(): void {
    const o = this.agent.options;
    this.controller = startController({
      // The controller's changes are logged as its own in the event log.
      ...controllerHooks(
        { getState: () => this.agent.getState(), setRatio: (r) => this.agent.setRatio(r, { by: 'controller' }), setHandlerMode: (id, m) => this.agent.setHandlerMode(id, m, { by: 'controller' }) },
        {
          prewarm: (n) => void this.agent.provider().prewarm(n).catch(() => {}),
          // The dispatcher reads a handler's own ratio before the global one.
          setHandlerRatios: (ratios) => {
            for (const e of this.agent.registry.all) e.ratio = ratios[e.id] ?? 0;
          },
          // Local workers are a fixed pool; FaaS platforms scale out (their throttling shows as queueing).
          workerSlots: o.platform === 'local' ? o.workers : Infinity,
        },
      ),
      periodMs: 250,
    });
    this.controller.on('error', (err) => debug('agent', `controller: ${(err as Error).message}`));
    this.controller.on('decision', (d: { signals: { elu: number; loopDelayP99Ms?: number } }) => this.agent.noteSignals(d.signals));
    // Opt-in: a window's start stalls the loop (see AgentOptions.cpuProfile).
    if (o.cpuProfile) this.startCpuProfiler();
    this.selectTimer = setInterval(() => this.select(), 1000);
    this.selectTimer.unref();
  }

  private startCpuProfiler(): void {
    try {
      this.cpu = createCpuProfiler({ windowMs: 1000, periodMs: 10_000 });
      this.cpu.start();
    } catch (err) {
      debug('agent', `CPU profiler unavailable: ${(err as Error).message}`);
    }
  }

  /** Re-runs selection over the profiles; explicit BEEHIVE_ROUTES are selected as given. */
  select(): void {
    const entries = this.agent.registry.all;
    const routes = this.agent.options.routes;
    if (this.cpu) {
      for (const e of entries) {
        if (!this.tracked.has(e.id)) {
          this.tracked.add(e.id);
          this.cpu.track(e.id, e.fn);
        }
      }
      const cpu = this.cpu.totals();
      for (const e of entries) e.cpuSelfMs = cpu.get(e.id) ?? e.cpuSelfMs;
    }
    const { selected } = selectHandlers(
      entries.map((e) => {
        const s = e.profile.summary();
        return { id: e.id, count: s.count, totalMs: e.profile.sum, meanMs: s.mean, reason: e.reason, selected: e.selected };
      }),
    );
    const chosen = new Set(selected);
    for (const e of entries) e.selected = routes.length > 0 ? routes.includes(e.id) && !e.reason : chosen.has(e.id);
  }

  async close(): Promise<void> {
    this.controller?.stop();
    if (this.selectTimer) clearInterval(this.selectTimer);
    this.cpu?.close();
    await this.admin?.close();
  }
}
