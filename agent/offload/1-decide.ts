import type { AgentOptions } from '../config';
import type { HandlerEntry } from '../registry';

/**
 * Step 1, decide (DESIGN.md §3 step 3): per request, whether the handler runs here or on a worker,
 * and whether a worker run is a shadow. Nothing here has side effects: a throw in it leaves the
 * request to run as without the agent (agent/agent.ts).
 */

/** A selected handler (or a forced one) goes to a worker with the probability of its ratio. */
export function shouldOffload(o: AgentOptions, entry: HandlerEntry, ratio: () => number): boolean {
  if (o.mode === 'off' || entry.reason || entry.mode === 'off' || entry.phase === 'held') return false;
  if (o.routes.length > 0 && !o.routes.includes(entry.id)) return false;
  if (o.mode === 'always' || entry.mode === 'always') return true;
  if (o.mode === 'auto' && !entry.selected) return false;
  const r = entry.ratio ?? ratio();
  return r > 0 && Math.random() < r;
}

/**
 * Whether this offload decision should be a shadow run instead: the first BEEHIVE_SHADOW_RUNS of a
 * handler in auto or manual mode (`always`, globally or for the handler, skips shadows).
 */
export function needsShadow(o: AgentOptions, entry: HandlerEntry): boolean {
  return (o.mode === 'auto' || o.mode === 'manual') && entry.mode === 'auto' && o.shadowRuns > 0 && entry.phase !== 'live';
}
