import { isArrayIndex } from '../protocol';
/** A FetchRange answer: elements from `start` (holes kept), or the whole array instead. */
export type RangeReply = { whole: object } | { length: number; start: number; items: unknown[]; names?: readonly string[] };

/** Elements asked for at a random touch; doubled while the reads run on in order (a scan, a slice). */
const FIRST = 32;
const MAX = 16_384;
/** Elements before a random touch that come with it (a neighbour is often read next). */
const BEFORE = 8;

/**
 * What a worker holds of a large server array read in ranges (FetchRange): the elements fetched so
 * far, the array's length, and the named keys the server vouched it does not have as its own (so
 * that `slice`, `toJSON`, `constructor`... are the inherited ones). `arr[i]` fetches the range
 * around i, a scan fetches ranges that double in size, and nothing else of the array travels: a
 * handler reading one row of 200k gets ~32 rows, not 200k.
 */
export class ArrayPart {
  length = -1;
  names?: ReadonlySet<string>;
  private readonly local: unknown[] = [];
  /** Fetched ranges [start, end), sorted and disjoint. */
  private readonly ranges: Array<[number, number]> = [];
  private lastEnd = -1;
  private lastCount = FIRST;

  constructor(
    private readonly id: number,
    private readonly fetchRange: (id: number, start: number, count: number, wantNames: boolean) => RangeReply,
    private readonly onWhole: (whole: object) => void,
  ) {}

  /** Makes sure the length and the vouched names are known; false if the whole array came instead. */
  known(): boolean {
    return this.length >= 0 || this.load(0);
  }

  /** Makes sure element i is here (or known absent); false if the whole array came instead. */
  ensure(i: number): boolean {
    if (this.length >= 0 && i >= this.length) return true;
    if (this.covered(i)) return true;
    return this.load(i);
  }

  /** Whether element i is one of the array's own (after ensure: a fetched element, not a hole). */
  has(i: number): boolean {
    return i < this.length && Object.prototype.hasOwnProperty.call(this.local, i);
  }

  at(i: number): unknown {
    return this.local[i];
  }

  private load(i: number): boolean {
    const sequential = i === this.lastEnd;
    const start = sequential ? i : Math.max(0, i - BEFORE);
    const count = sequential ? Math.min(this.lastCount * 2, MAX) : FIRST;
    const r = this.fetchRange(this.id, start, count, this.names === undefined);
    if ('whole' in r) {
      this.onWhole(r.whole);
      return false;
    }
    this.length = r.length;
    if (r.names) this.names = new Set(r.names);
    const end = r.start + r.items.length;
    // An element already here stays as first seen: one invocation sees one value per index (the
    // commit checks that value is still the server's).
    for (let j = r.start; j < end; j++) {
      if (this.covered(j)) continue;
      if (Object.prototype.hasOwnProperty.call(r.items, j - r.start)) this.local[j] = r.items[j - r.start];
    }
    this.addRange(r.start, end);
    this.lastEnd = end;
    this.lastCount = Math.max(r.items.length, 1);
    return true;
  }

  private covered(i: number): boolean {
    const rs = this.ranges;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (i < rs[mid][0]) hi = mid - 1;
      else if (i >= rs[mid][1]) lo = mid + 1;
      else return true;
    }
    return false;
  }

  private addRange(start: number, end: number): void {
    if (end <= start) return;
    const rs = this.ranges;
    rs.push([start, end]);
    rs.sort((a, b) => a[0] - b[0]);
    // Merge overlapping or touching ranges.
    let w = 0;
    for (let r = 1; r < rs.length; r++) {
      if (rs[r][0] <= rs[w][1]) rs[w][1] = Math.max(rs[w][1], rs[r][1]);
      else rs[++w] = rs[r];
    }
    rs.length = w + 1;
  }
}

/** The canonical array index `k` names, or -1. */
export function arrayIndex(k: string | symbol): number {
  return typeof k === 'string' && isArrayIndex(k) ? Number(k) : -1;
}
