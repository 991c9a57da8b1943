import fs from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';
import type { Provider } from '../protocol';
import { ExportTable } from '../gc';
import { ConfigErrors, originOf, resolveOptions, splitHostPort, type AgentOptions } from './config';
import { ChannelServer } from './channel/server';
import { Invocations } from './channel/invocations';
import { debug } from './debug';
import { bindNext, Dispatcher, makePacker, type InvocationPacker } from './offload';
import { isExpress, patchExpress, supportedExpressMajor, SUPPORTED_EXPRESS_MAJORS } from './instrument/express';
import { instrumentNest } from './instrument/nest';
import { onAnyModuleLoad, onModuleLoad } from './instrument/loader';
import { markModulesChanged } from './capture/module-index';
import { Preparer } from './capture/prepare';
import { LockManager } from './locks';
import { createProvider } from './providers/create';
import { DURATION_BUCKETS_S, Registry, Samples, type HandlerEntry } from './registry';
import type { AgentControl, AgentState, ChangeSource, ControlEvent, HandlerMode, RequestCounters } from './state';
import { productVersion } from './version';
import { ControlPlane } from './control-plane';

const EVENTS_KEPT = 200;

/**
 * The agent inside the server process: instrumentation, dispatch, the channel and the worker pool.
 * Started once per process by `beehive/agent` or `configure()`.
 */
export class Agent implements AgentControl {
  readonly options: AgentOptions;
  readonly registry = new Registry();
  readonly exports = new ExportTable();
  readonly locks = new LockManager();
  readonly invocations = new Invocations(this.locks);
  readonly dispatcher: Dispatcher;
  private ratioNow: number;
  private channel?: ChannelServer;
  private channelUrlP?: Promise<string>;
  private providerInst?: Provider;
  private readonly startedAt = new Date().toISOString();
  /** Request latency of the current and the last complete control period (the controller's p99). */
  private latency = new Samples(4096);
  private lastPeriod = new Samples(1);
  private signals = { elu: 0, loopDelayP99: 0 };
  readonly control = new ControlPlane(this);
  private periodTimer?: NodeJS.Timeout;
  private inFlight = 0;
  /** Shared by every request: no closure allocated per request on the hot path. */
  private readonly inFlightDone = (): void => {
    this.inFlight--;
  };
  private readonly totals = { requests: 0 };
  /** Ratio and handler-mode changes, the latest EVENTS_KEPT (the dashboard's event log). */
  private readonly events: ControlEvent[] = [];
  /** Handlers' first captures, made in the background before their first request (capture/prepare.ts). */
  readonly preparer: Preparer;

  constructor(options: Partial<AgentOptions>) {
    this.options = resolveOptions(options);
    this.ratioNow = this.options.mode === 'always' ? 1 : this.options.ratio;
    this.logEvent({ what: 'start', value: this.options.mode, by: originOf(this.options, 'mode') });
    this.logEvent({ what: 'ratio', value: this.ratioNow, by: this.options.mode === 'always' ? 'mode always' : originOf(this.options, 'ratio') });
    this.preparer = new Preparer({
      lease: () => this.exports.lease(),
      budget: this.options.closureBudget,
      onPrepared: (label, ok, ms) => debug('timing', `${label}: capture prepared in ${ms.toFixed(2)} ms${ok ? '' : ' (a refusal stopped it)'}`),
    });
    this.dispatcher = new Dispatcher({
      options: this.options,
      exports: this.exports,
      invocations: this.invocations,
      channelUrl: () => this.channelUrl(),
      provider: () => this.provider(),
      ratio: () => this.ratioNow,
      packer: (cap, shadow) => this.packer(cap, shadow),
      onRequestDone: (e, where, ms) => {
        this.latency.add(ms);
        (where === 'local' ? e.localHistogram : e.offloadHistogram).observe(ms);
      },
      inFlight: (d) => {
        this.inFlight += d;
      },
    });
  }

  /** Starts the admin API, and in auto mode the profiler, selection and the burst controller. */
  async startControlPlane(): Promise<void> {
    // Event-loop utilisation and delay, once a second, whatever the mode: the dashboard shows them.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    let elu = performance.eventLoopUtilization();
    this.periodTimer = setInterval(() => {
      this.lastPeriod = this.latency;
      this.latency = new Samples(4096);
      const now = performance.eventLoopUtilization();
      this.signals = { elu: performance.eventLoopUtilization(now, elu).utilization, loopDelayP99: delay.percentile(99) / 1e6 };
      elu = now;
      delay.reset();
    }, 1000);
    this.periodTimer.unref();
    await this.control.start();
  }

  /** The controller's own reading of the period, when it runs (it measures the same way). */
  noteSignals(s: { elu: number; loopDelayP99Ms?: number }): void {
    this.signals = { elu: s.elu, loopDelayP99: s.loopDelayP99Ms ?? this.signals.loopDelayP99 };
  }

  /** Hooks framework loading. */
  instrument(): void {
    const hooks = {
      registry: this.registry,
      register: (e: HandlerEntry) => {
        const added = this.registry.add(e);
        if (this.options.mode !== 'off') this.preparer.add(e.fn, added.id, () => (added.closurePlanned = true));
        return added;
      },
      handle: (e: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction) => this.handle(e, self, req, res, next),
    };
    this.uninstrument.push(onAnyModuleLoad(markModulesChanged));
    const nestHooks = { registry: this.registry, register: hooks.register, call: (e: HandlerEntry, self: unknown, args: unknown[]) => this.handleCall(e, self, args) };
    // Nest is found through reflect-metadata, which it loads first (CommonJS even under Nest's ESM build).
    this.uninstrument.push(
      onModuleLoad('nest', () => {
        if (!instrumentNest(nestHooks)) return false;
        debug('agent', 'instrumented NestJS controllers (through reflect-metadata)');
        return true;
      }),
    );
    this.uninstrument.push(
      onModuleLoad('express', (exports, version) => {
        if (!isExpress(exports)) return false;
        const unpatch = patchExpress(exports, version(), hooks);
        if (!unpatch) {
          // Recognised but not patched: its routes run on the server, as without the agent.
          if (supportedExpressMajor(version()) === undefined) process.emitWarning(`BeeHive: express ${version()} is not a supported version (majors ${SUPPORTED_EXPRESS_MAJORS.join(', ')}): its routes are not offloaded`);
          return true;
        }
        this.uninstrument.push(unpatch);
        debug('agent', `instrumented express ${version()}`);
        return true;
      }),
    );
  }

  /** Removals of the loader hooks and framework patches, run (latest first) when the agent closes. */
  private readonly uninstrument: Array<() => void> = [];

  handle(entry: HandlerEntry, self: unknown, req: Request, res: Response, next: NextFunction): unknown {
    this.totals.requests++;
    const route = this.route(entry);
    if (!route) return entry.fn.call(self, req, res, next);
    if (route === 'local') return this.dispatcher.runLocal(entry, self, req, res, next, this.inFlightDone);
    this.inFlight++;
    res.once('close', this.inFlightDone);
    if (route === 'shadow') return this.dispatcher.shadowRun(entry, self, req, res, next);
    // A callback the handler leaves for the response may call next(), as locally (agent/offload/5-replay.ts).
    bindNext(res, next);
    // offload() routes its own failures; this only catches a bug in it, and must not throw itself.
    void this.dispatcher.offload(entry, self, req, res, next).catch((err) => {
      try {
        next(err);
      } catch (e) {
        debug('agent', `next(err) threw: ${(e as Error)?.message ?? e}`);
      }
    });
    return undefined;
  }

  /** A Nest controller method: resolves (or throws) as the method would. */
  handleCall(entry: HandlerEntry, self: unknown, args: unknown[]): unknown {
    this.totals.requests++;
    const route = this.route(entry);
    if (!route) return entry.fn.apply(self, args);
    if (route === 'local') return this.dispatcher.callLocal(entry, self, args);
    if (route === 'shadow') return this.dispatcher.shadowCall(entry, self, args);
    return this.dispatcher.offloadCall(entry, self, args);
  }

  /**
   * Where a request goes. Undefined when the agent's own decision failed, before anything ran: the
   * caller then runs the app's handler itself, exactly as without the agent.
   */
  private route(entry: HandlerEntry): 'local' | 'shadow' | 'offload' | undefined {
    try {
      if (!this.dispatcher.shouldOffload(entry)) return 'local';
      return this.dispatcher.needsShadow(entry) ? 'shadow' : 'offload';
    } catch (err) {
      debug('agent', `deciding ${entry.id} failed, running it as without the agent: ${(err as Error)?.message ?? err}`);
      return undefined;
    }
  }

  channelUrl(): Promise<string> {
    this.channelUrlP ??= (async () => {
      const { host, port } = splitHostPort(this.options.channelListen);
      this.channel = new ChannelServer({
        host,
        port,
        invocations: this.invocations,
        exports: this.exports,
        budget: this.options.closureBudget,
        appRoot: this.options.appRoot,
        maxFrameBytes: 64 * 1024 * 1024,
        ...(this.options.channelTlsCert && this.options.channelTlsKey
          ? { tls: { cert: fs.readFileSync(this.options.channelTlsCert), key: fs.readFileSync(this.options.channelTlsKey) } }
          : {}),
      });
      const addr = await this.channel.listen();
      const scheme = this.options.channelTlsCert ? 'wss' : 'ws';
      // A certificate names a host, not an address: loopback over TLS is reached as localhost.
      const urlHost = addr.host === '127.0.0.1' && scheme === 'wss' ? 'localhost' : addr.host.includes(':') ? `[${addr.host}]` : addr.host;
      const url = this.options.callbackUrl ?? `${scheme}://${urlHost}:${addr.port}`;
      debug('agent', `channel listening on ${addr.host}:${addr.port}, workers call back to ${url}`);
      return url;
    })();
    return this.channelUrlP;
  }

  private packerBase?: ReturnType<typeof makePacker>;
  packer(capability: string, shadow: boolean): InvocationPacker {
    this.packerBase ??= makePacker(this.options);
    return this.packerBase(capability, shadow);
  }

  provider(): Provider {
    this.providerInst ??= createProvider(this.options);
    return this.providerInst;
  }

  /** Starts the channel and warm workers ahead of the first offload. */
  async prewarm(n = this.options.workers): Promise<void> {
    await this.channelUrl();
    await this.provider().prewarm(n);
  }

  getState(): AgentState {
    const handlers = this.registry.all.map((h) => h.stats());
    const sum = (k: keyof RequestCounters) => handlers.reduce((n, h) => n + h[k], 0);
    const ps = this.providerInst?.stats();
    const byKind: Record<string, number> = {};
    for (const h of handlers) for (const [k, n] of Object.entries(h.failuresByKind ?? {})) byKind[k] = (byKind[k] ?? 0) + n;
    // The local pool knows which of its processes run an invocation; a FaaS platform does not say,
    // but each invocation in flight holds one instance.
    const workersBusy = this.options.platform === 'local' ? (ps?.workers ?? []).filter((w) => w.state === 'busy').length : this.invocations.size;
    return {
      version: productVersion(),
      durationBuckets: DURATION_BUCKETS_S,
      events: this.events.slice(),
      mode: this.options.mode,
      ratio: this.ratioNow,
      platform: this.options.platform,
      sloMs: this.options.sloMs,
      startedAt: this.startedAt,
      handlers,
      workers: ps?.workers ?? [],
      ...(this.control.admin ? { adminUrl: this.control.admin.url } : {}),
      contention: {
        heated: this.invocations.contention.heated,
        heatings: this.invocations.contention.heatings,
        lockWaits: this.locks.waits,
        deadlocks: this.locks.deadlocks,
        locksNow: this.locks.size,
      },
      totals: {
        requests: this.totals.requests,
        local: sum('local'),
        offloaded: sum('offloaded'),
        shadow: sum('shadow'),
        fallbacks: sum('fallbacks'),
        failures: sum('failures'),
        reexecuted: sum('reexecuted'),
        conflicts: sum('conflicts'),
        retried: sum('retried'),
        diverged: sum('diverged'),
        failuresByKind: byKind,
        refused: sum('refused'),
        inFlight: this.inFlight,
        workersBusy,
        invocations: ps?.invocations ?? 0,
        coldStarts: ps?.cold ?? 0,
        queued: ps?.queued ?? 0,
        elu: this.signals.elu,
        loopDelayP99: this.signals.loopDelayP99,
        latency: (this.lastPeriod.count > 0 ? this.lastPeriod : this.latency).summary(),
        cost: { billedMs: ps?.billedMs ?? 0, gbSeconds: ps?.gbSeconds ?? 0, usd: ps?.cost?.usd ?? 0 },
      },
    };
  }

  setRatio(ratio: number, source?: ChangeSource): void {
    if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) throw ConfigErrors.RATIO();
    const from = this.ratioNow;
    this.ratioNow = ratio;
    if (ratio !== from) this.logEvent({ what: 'ratio', value: ratio, from, by: source?.by ?? 'code', ...(source?.remote ? { remote: source.remote } : {}) });
  }

  setHandlerMode(id: string, mode: HandlerMode, source?: ChangeSource): boolean {
    const h = this.registry.get(id);
    if (!h) return false;
    const from = h.mode;
    h.mode = mode;
    if (mode !== from) this.logEvent({ what: 'handler-mode', handler: id, value: mode, from, by: source?.by ?? 'code', ...(source?.remote ? { remote: source.remote } : {}) });
    return true;
  }

  private logEvent(e: Omit<ControlEvent, 'at'>): void {
    this.events.push({ at: new Date().toISOString(), ...e });
    if (this.events.length > EVENTS_KEPT) this.events.splice(0, this.events.length - EVENTS_KEPT);
  }

  writeStatsFile(): void {
    if (!this.options.statsFile) return;
    fs.writeFileSync(this.options.statsFile, JSON.stringify(this.getState(), null, 2));
  }

  async close(): Promise<void> {
    // From now on the app's handlers run as without the agent.
    for (const undo of this.uninstrument.splice(0).reverse()) undo();
    this.preparer.close();
    if (this.periodTimer) clearInterval(this.periodTimer);
    await this.control.close();
    await this.providerInst?.close();
    await this.channel?.close();
  }
}
