/**
 * Root-handler selection (paper §4.3): among the candidates, pick those whose accumulated time is a
 * large share of the server's time and whose mean run is long enough (about 1 ms) to be worth a
 * remote invocation. Handlers with a `reason` (not offloadable) are never picked. Pure.
 */
import { ProfilerErrors } from './errors';

export interface SelectionCandidate {
  id: string;
  count: number;
  totalMs: number;
  meanMs: number;
  /** Why the handler cannot be offloaded; such a handler is never selected. */
  reason?: string;
  /** Selected in the previous round: kept with the lower `keepShare`, so selection does not flap. */
  selected?: boolean;
}

export interface SelectionOptions {
  /** Least share of server time (0..1) for a new pick. Default 0.1. */
  minShare?: number;
  /** Least share to stay selected. Default minShare / 2. */
  keepShare?: number;
  /** Least mean wall time, ms. Default 1. */
  minMeanMs?: number;
  /** Least number of runs before a handler is judged. Default 5. */
  minCount?: number;
  /** Most handlers selected, largest share first. Default unlimited. */
  maxSelected?: number;
  /** Server busy time over the same period, ms; defaults to the candidates' summed totalMs. */
  serverTimeMs?: number;
}

export interface SelectionVerdict {
  id: string;
  selected: boolean;
  share: number;
  /** Why the handler was or was not selected, for the operator. */
  why: string;
}

export interface Selection {
  selected: string[];
  verdicts: SelectionVerdict[];
}

export function validateSelectionOptions(options: SelectionOptions): Required<SelectionOptions> {
  if (options === null || typeof options !== 'object') throw ProfilerErrors.OPTION_TYPE('options must be an object');
  const minShare = options.minShare ?? 0.1;
  const o = { minShare, keepShare: minShare / 2, minMeanMs: 1, minCount: 5, maxSelected: Infinity, serverTimeMs: NaN, ...stripUndefined(options) };
  const inRange = (name: keyof SelectionOptions, min: number, max: number, integer = false): void => {
    const v = o[name];
    const what = integer ? 'an integer' : 'a number';
    const message = `options.${name} must be ${what} from ${min} to ${max}`;
    if (typeof v !== 'number' || Number.isNaN(v) || (integer && v !== Infinity && !Number.isInteger(v))) throw ProfilerErrors.OPTION_TYPE(message);
    if (v < min || v > max) throw ProfilerErrors.OPTION_RANGE(message);
  };
  inRange('minShare', 0, 1);
  inRange('keepShare', 0, 1);
  if (o.keepShare > o.minShare) throw ProfilerErrors.OPTION_RANGE('options.keepShare must not exceed options.minShare');
  inRange('minMeanMs', 0, 60_000);
  inRange('minCount', 1, 1e9, true);
  inRange('maxSelected', 0, Infinity, true);
  if (options.serverTimeMs !== undefined) inRange('serverTimeMs', 0, Infinity);
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function selectHandlers(candidates: readonly SelectionCandidate[], options: SelectionOptions = {}): Selection {
  const o = validateSelectionOptions(options);
  const summed = candidates.reduce((n, c) => n + Math.max(0, c.totalMs), 0);
  const total = Number.isNaN(o.serverTimeMs) ? summed : Math.max(o.serverTimeMs, summed);
  const verdicts = candidates.map((c): SelectionVerdict => {
    const share = total > 0 ? Math.max(0, c.totalMs) / total : 0;
    const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
    const need = c.selected ? o.keepShare : o.minShare;
    if (c.reason) return { id: c.id, selected: false, share, why: `not offloadable: ${c.reason}` };
    if (c.count < o.minCount) return { id: c.id, selected: false, share, why: `${c.count} runs, judged after ${o.minCount}` };
    if (c.meanMs < o.minMeanMs) return { id: c.id, selected: false, share, why: `mean ${c.meanMs.toFixed(2)} ms < ${o.minMeanMs} ms` };
    if (share < need) return { id: c.id, selected: false, share, why: `${pct(share)} of server time < ${pct(need)}` };
    return { id: c.id, selected: true, share, why: `${pct(share)} of server time, mean ${c.meanMs.toFixed(2)} ms` };
  });
  const picked = verdicts.filter((v) => v.selected).sort((a, b) => b.share - a.share);
  for (const v of picked.slice(o.maxSelected)) {
    v.selected = false;
    v.why = `beyond the ${o.maxSelected} largest`;
  }
  return { selected: picked.slice(0, o.maxSelected).map((v) => v.id), verdicts };
}
