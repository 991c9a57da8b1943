import { isDeepStrictEqual } from 'node:util';
import type { Response } from 'express';
import { REPLAYABLE } from './5-replay';

/**
 * Shadow execution (DESIGN.md §4, paper §3.4, Diffy's noise rule): the request runs locally for real
 * while two workers run it as shadows against the same state, their effects discarded. Paths where
 * the two shadows disagree are noise (timestamps, random ids); a path where the local response
 * differs from the shadows outside the noise is a mismatch.
 */

/** Records the response calls a handler makes on the real `res` (outermost calls only). */
export function recordResponse(res: Response): { calls: unknown[][]; restore(): void } {
  const calls: unknown[][] = [];
  const owned: string[] = [];
  let depth = 0;
  const r = res as unknown as Record<string, unknown>;
  for (const name of REPLAYABLE) {
    const orig = r[name];
    if (typeof orig !== 'function') continue;
    owned.push(name);
    r[name] = function (this: unknown, ...args: unknown[]) {
      if (depth === 0) calls.push([name, ...args.filter((a) => typeof a !== 'function')]);
      depth++;
      try {
        return (orig as (...a: unknown[]) => unknown).apply(this, args);
      } finally {
        depth--;
      }
    };
  }
  return {
    calls,
    restore() {
      for (const name of owned) delete r[name];
    },
  };
}

/** Paths (a.b[2]) at which two values differ. */
export function diffPaths(a: unknown, b: unknown, at = '', out: string[] = [], limit = 50): string[] {
  if (out.length >= limit) return out;
  if (Object.is(a, b)) return out;
  const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Date);
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of keys) {
      const p = Array.isArray(a) ? `${at}[${k}]` : at ? `${at}.${k}` : k;
      diffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], p, out, limit);
    }
    return out;
  }
  if (!isDeepStrictEqual(a, b) && !(timeLike(a) && timeLike(b))) out.push(at || '(root)');
  return out;
}

const HOUR = 3_600_000;
/**
 * Clock readings (epoch ms or s, ISO dates, Date objects near now): two runs a millisecond apart
 * differ there, and two shadows started together often agree, so Diffy's rule alone would call
 * them a mismatch.
 */
function timeLike(v: unknown): boolean {
  const now = Date.now();
  if (v instanceof Date) return Math.abs(v.getTime() - now) < HOUR;
  if (typeof v === 'number') return Math.abs(v - now) < HOUR || Math.abs(v * 1000 - now) < HOUR;
  if (typeof v === 'string' && v.length >= 10 && v.length <= 40 && /^\d{4}-\d\d-\d\d[T ]/.test(v)) {
    const t = Date.parse(v);
    return Number.isFinite(t) && Math.abs(t - now) < HOUR;
  }
  return false;
}

export interface ShadowVerdict {
  clean: boolean;
  /** Differences between the local run and the shadows, outside the noise. */
  paths: string[];
  noise: string[];
}

/** Compares the local response with two shadow responses. */
export function judgeShadow(local: unknown[][], a: unknown[][], b: unknown[][]): ShadowVerdict {
  const noise = new Set(diffPaths(a, b));
  const paths = diffPaths(local, a).filter((p) => ![...noise].some((n) => p === n || p.startsWith(n + '.') || p.startsWith(n + '[')));
  return { clean: paths.length === 0, paths, noise: [...noise] };
}
