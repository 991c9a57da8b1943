/**
 * `beehive`: the public API for apps, the same on the server and on a worker.
 *
 *   const beehive = require('beehive');
 *   beehive.configure({ mode: 'manual', ratio: 0.5 });
 *   await beehive.lock('stats', () => { stats.hits++; });
 *
 * This module depends on neither half of the product: on a worker each call goes to the invocation
 * running there, on the server to the agent, which registers itself when it loads (the package's
 * entry point loads it on first use). So a worker hands out this very module for
 * `require('beehive')` without carrying the server, and the server hands out the same object its
 * app required.
 */
import type { Agent, AgentOptions, AgentState } from '../agent';
import { ApiErrors } from './errors';

export type { AgentOptions, AgentState, HandlerStats, AgentControl } from '../agent';
export { BeehiveError } from '../protocol';

/** What the agent registers under `beehive.server` when it loads. */
export interface ServerSide {
  start(options: Partial<AgentOptions>): Agent;
  lock<T>(key: string, fn: () => T | Promise<T>): Promise<T>;
  state(): AgentState | undefined;
}

/** What the worker's invocation offers under `beehive.invocation` while it runs. */
interface WorkerSide {
  lock<T>(key: string, fn: () => T | Promise<T>): Promise<T>;
  /** Fails the invocation (even if the handler catches the error) and returns the coded error to throw. */
  refuse(reason: string): Error;
}

type G = Record<symbol, unknown>;
const kInvocation = Symbol.for('beehive.invocation');
const kServer = Symbol.for('beehive.server');
const kServerLoad = Symbol.for('beehive.server.load');

const invocation = (): WorkerSide | undefined => (globalThis as G)[kInvocation] as WorkerSide | undefined;

function server(): ServerSide | undefined {
  const g = globalThis as G;
  if (!g[kServer]) (g[kServerLoad] as (() => void) | undefined)?.();
  return g[kServer] as ServerSide | undefined;
}

/**
 * Starts the agent with these options over the BEEHIVE_* variables, checked first: an unknown key,
 * a bad value or an incomplete platform setting throws a BeehiveError (BEEHIVE_ERR_CONFIG_*)
 * naming the key or variable. Called again once the agent runs, it returns the running agent when
 * it asks for nothing different, and throws BEEHIVE_ERR_CONFIG_ALREADY_STARTED when it does.
 * On a worker there is no agent to start: the invocation fails and the request runs on the server.
 */
export function configure(options: Partial<AgentOptions> = {}): Agent {
  const inv = invocation();
  if (inv) throw inv.refuse('beehive.configure() starts the server agent, which exists only on the server');
  const s = server();
  if (!s) throw ApiErrors.NO_AGENT();
  return s.start(options);
}

/**
 * A distributed lock through the server, with release consistency (paper §4.2): on a worker,
 * acquiring pulls fresh copies of the objects it holds and releasing pushes its changes, which the
 * server keeps, with the key, until the invocation commits (strict two-phase locking: applied once,
 * or dropped with the key released if the invocation fails); on the server it is a plain FIFO mutex
 * shared with the workers. docs/guarantees.md says what it promises under faults.
 */
export function lock<T>(key: string, fn: () => T | Promise<T>): Promise<T> {
  if (typeof key !== 'string' || key.length === 0 || key.length > 256) throw ApiErrors.LOCK_KEY();
  if (typeof fn !== 'function') throw ApiErrors.LOCK_FN();
  const inv = invocation();
  if (inv) return inv.lock(key, fn);
  const s = server();
  // No agent in this process: nothing else can hold the key.
  return s ? s.lock(key, fn) : Promise.resolve().then(fn);
}

/**
 * Runs `fn` (synchronously) outside the worker's guard (README, "What a worker may do"): on a
 * worker its file writes, processes and connections happen there and the server never sees them.
 * Meant for the worker's own scratch files and diagnostics; on the server it simply calls `fn`.
 */
export function unguarded<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw ApiErrors.UNGUARDED_FN();
  const run = (globalThis as Record<symbol, (<U>(f: () => U) => U) | undefined>)[Symbol.for('beehive.world.unguarded')];
  return run ? run(fn) : fn();
}

/** The running agent's state (docs/DESIGN.md §5), or undefined when no agent runs in this process. */
export function state(): AgentState | undefined {
  const inv = invocation();
  // On a worker there is no agent: an answer here would be a made-up one. The invocation fails
  // (even if the handler catches this), the request runs on the server and the handler stays there.
  if (inv) throw inv.refuse('beehive.state() reads the server agent, which exists only on the server');
  return server()?.state();
}
