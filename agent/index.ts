/** The agent facade: start it once per server process. */
import { changedOptions, checkStartup, ConfigErrors, loadOptions, providerConfigError, type AgentOptions } from './config';
import { Agent } from './agent';
import { registerSelf } from './capture/module-index';
import { withLock } from './locks';
import { installPackageStateHook, warmUpCapture } from './capture/closure';
import { productVersion } from './version';
import { addWorkerPreload, expressPreload } from './worker-preload';
import type { ServerSide } from '../api';

export { Agent } from './agent';
export { resolveOptions, optionsFromEnv, loadOptions, checkStartup, defaults, ConfigErrors, ENV_VARIABLES, type AgentOptions } from './config';
export type * from './state';
export { productVersion } from './version';
export { createProvider } from './providers/create';

const kAgent = Symbol.for('beehive.agent');
type G = Record<symbol, Agent | undefined>;

export function currentAgent(): Agent | undefined {
  return (globalThis as G)[kAgent];
}

const kStartedBy = Symbol.for('beehive.startedBy');

/**
 * Starts the agent: the environment first, then `overrides` (configure() keys). Options are
 * checked before anything starts; errors are BeehiveErrors with BEEHIVE_ERR_CONFIG_* codes. Once
 * started, calling it again with nothing new returns the running agent; asking for a different
 * value is an error (options cannot change under a running agent: the admin API changes the ratio
 * and handler modes).
 */
export function start(overrides: Partial<AgentOptions> = {}, startedBy = 'configure()'): Agent {
  const existing = currentAgent();
  if (existing) {
    const changed = changedOptions(existing.options, overrides);
    if (changed.length > 0) {
      const by = (existing as unknown as Record<symbol, string>)[kStartedBy];
      throw ConfigErrors.ALREADY_STARTED(
        `started by ${by}, it cannot take configure({ ${changed.join(', ')} }) now: call configure() once, before the app loads its framework ` +
          '(and without node -r beehive/agent), or change the ratio and handler modes through the admin API',
      );
    }
    return existing;
  }
  const options = loadOptions(overrides);
  checkStartup(options);
  const agent = new Agent(options);
  if (options.platform !== 'local' && options.mode !== 'off') {
    // The platform's settings are checked now, not at the first offload (which would fail them all).
    try {
      agent.provider();
    } catch (err) {
      throw providerConfigError(options.platform, err);
    }
  }
  Object.defineProperty(agent, kStartedBy, { value: startedBy });
  (globalThis as G)[kAgent] = agent;
  // Before the app loads its packages: what they are at load is what a worker's copy will be.
  if (agent.options.mode !== 'off') {
    installPackageStateHook();
    // Before the first worker is forked: workers start with Express's files loaded.
    addWorkerPreload(expressPreload(options.appRoot));
  }
  registerSelf(require('../api'));
  agent.instrument();
  const writeStats = () => {
    try {
      agent.writeStatsFile();
    } catch {
      /* exit must not fail because of stats */
    }
  };
  process.once('exit', writeStats);
  // A signal skips 'exit': write the stats, then die of the same signal unless the app handles it
  // (its own listener then decides; 'exit' writes the stats again if it exits).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      writeStats();
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
  if (agent.options.mode !== 'off') {
    // After the app's own start-up code has run, off the request path.
    setTimeout(() => {
      try {
        warmUpCapture();
      } catch {
        /* the first capture pays instead */
      }
    }, 50).unref();
  }
  agent
    .startControlPlane()
    .then(() => {
      if (!agent.options.quiet) process.stderr.write(startupLine(agent) + '\n');
    })
    .catch((err) => process.emitWarning(`BeeHive control plane: ${(err as Error).message}`));
  if (agent.options.mode === 'always' || agent.options.mode === 'manual') {
    agent.prewarm().catch(() => {
      /* a cold start on the first offload then */
    });
  }
  return agent;
}

/** The one line the agent prints at start (dd-trace and OpenTelemetry print one too): what it is doing. */
export function startupLine(agent: Agent): string {
  const o = agent.options;
  const workers =
    o.platform === 'local' ? `${o.workers} local worker process${o.workers === 1 ? '' : 'es'}` :
    o.platform === 'lambda' ? `Lambda function ${process.env.BEEHIVE_LAMBDA_FUNCTION}` : `OpenWhisk action ${process.env.BEEHIVE_OPENWHISK_ACTION}`;
  const admin = o.admin === 'off' ? 'admin off' : agent.control.admin ? `dashboard ${agent.control.admin.url}/` : `admin not started on ${o.admin}`;
  const ratio = o.mode === 'manual' ? ` ratio ${o.ratio}` : '';
  return `beehive ${productVersion()}: mode ${o.mode}${ratio}, platform ${o.platform} (${workers}), ${admin} (BEEHIVE_QUIET=1 hides this line)`;
}

/** beehive.lock on the server. */
export function serverLock<T>(key: string, fn: () => T | Promise<T>): Promise<T> {
  const agent = currentAgent();
  if (!agent) return Promise.resolve().then(fn);
  return withLock(agent.locks, key, fn);
}

// The public API (api/) reaches the server through this registration, not by requiring the agent:
// the API module stays free of the server, so a worker can hand it out.
const serverSide: ServerSide = { start: (options) => start(options), lock: serverLock, state: () => currentAgent()?.getState() };
(globalThis as Record<symbol, unknown>)[Symbol.for('beehive.server')] ??= serverSide;
