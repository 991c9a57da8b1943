/**
 * `beehive`: the public API for apps.
 *
 *   const beehive = require('beehive');
 *   beehive.configure({ mode: 'manual', ratio: 0.5 });
 *   await beehive.lock('stats', () => { stats.hits++; });
 */
import type { AgentOptions } from './agent/config';

export type { AgentOptions } from './agent/config';
export type { AgentState, HandlerStats, AgentControl } from './agent/state';
export { BeehiveError } from './protocol/errors';

const kInvocation = Symbol.for('beehive.invocation');

/**
 * Starts the agent with these options over the BEEHIVE_* variables, checked first: an unknown key,
 * a bad value or an incomplete platform setting throws a BeehiveError (BEEHIVE_ERR_CONFIG_*)
 * naming the key or variable. Called again once the agent runs, it returns the running agent when
 * it asks for nothing different, and throws BEEHIVE_ERR_CONFIG_ALREADY_STARTED when it does.
 */
export function configure(options: Partial<AgentOptions> = {}): import('./agent/agent').Agent {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./agent') as typeof import('./agent')).start(options);
}

/**
 * A distributed lock through the server, with release consistency (paper §4.2): on a worker,
 * acquiring pulls fresh copies of the objects it holds and releasing pushes its changes, which the
 * server keeps, with the key, until the invocation commits (strict two-phase locking: applied once,
 * or dropped with the key released if the invocation fails); on the server it is a plain FIFO mutex
 * shared with the workers. docs/guarantees.md says what it promises under faults.
 */
export function lock<T>(key: string, fn: () => T | Promise<T>): Promise<T> {
  if (typeof key !== 'string' || key.length === 0 || key.length > 256) throw new TypeError('lock key must be a string of 1 to 256 characters');
  if (typeof fn !== 'function') throw new TypeError('lock needs a function');
  const inv = (globalThis as Record<symbol, { lock<U>(k: string, f: () => U | Promise<U>): Promise<U> } | undefined>)[kInvocation];
  if (inv) return inv.lock(key, fn);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./agent') as typeof import('./agent')).serverLock(key, fn);
}

/**
 * Runs `fn` (synchronously) outside the worker's guard (README, "What a worker may do"): on a
 * worker its file writes, processes and connections happen there and the server never sees them.
 * Meant for the worker's own scratch files and diagnostics; on the server it simply calls `fn`.
 */
export function unguarded<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError('unguarded needs a function');
  const run = (globalThis as Record<symbol, (<U>(f: () => U) => U) | undefined>)[Symbol.for('beehive.world.unguarded')];
  return run ? run(fn) : fn();
}

/** The running agent's state (docs/DESIGN.md §5), or undefined when no agent runs in this process. */
export function state(): import('./agent/state').AgentState | undefined {
  const inv = (globalThis as Record<symbol, { failure?: Error } | undefined>)[kInvocation];
  if (inv) {
    // On a worker there is no agent: an answer here would be a made-up one. The invocation fails
    // (even if the handler catches this), the request runs on the server and the handler stays there.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const err = (require('./offload-worker/errors') as typeof import('./offload-worker/errors')).WorkerErrors.REFUSED('beehive.state() reads the server agent, which exists only on the server');
    inv.failure ??= err;
    throw err;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./agent') as typeof import('./agent')).currentAgent()?.getState();
}
