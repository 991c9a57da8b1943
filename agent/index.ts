/** The agent facade: start it once per server process. */
import { optionsFromEnv, type AgentOptions } from './config';
import { Agent } from './agent';
import { registerSelf } from './capture/module-index';
import { withLock } from './locks';
import { installPackageStateHook, warmUpCapture } from './capture/closure';

export { Agent } from './agent';
export { resolveOptions, optionsFromEnv, defaults, type AgentOptions } from './config';
export type * from './state';

const kAgent = Symbol.for('beehive.agent');
type G = Record<symbol, Agent | undefined>;

export function currentAgent(): Agent | undefined {
  return (globalThis as G)[kAgent];
}

/** Starts the agent (idempotent): environment first, then `overrides`. */
export function start(overrides: Partial<AgentOptions> = {}): Agent {
  const existing = currentAgent();
  if (existing) return existing;
  const agent = new Agent({ ...optionsFromEnv(), ...overrides });
  (globalThis as G)[kAgent] = agent;
  // Before the app loads its packages: what they are at load is what a worker's copy will be.
  if (agent.options.mode !== 'off') installPackageStateHook();
  registerSelf(require('../index'));
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
  agent.startControlPlane().catch((err) => process.emitWarning(`BeeHive control plane: ${(err as Error).message}`));
  if (agent.options.mode === 'always' || agent.options.mode === 'manual') {
    agent.prewarm().catch(() => {
      /* a cold start on the first offload then */
    });
  }
  return agent;
}

/** beehive.lock on the server. */
export function serverLock<T>(key: string, fn: () => T | Promise<T>): Promise<T> {
  const agent = currentAgent();
  if (!agent) return Promise.resolve().then(fn);
  return withLock(agent.locks, key, fn);
}
