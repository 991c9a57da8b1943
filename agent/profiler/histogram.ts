/**
 * A log-bucket histogram in the spirit of HdrHistogram: fixed memory (one Uint32Array), O(1)
 * record, quantiles with a bounded relative error. Buckets grow by 2^(1/16) (~4.4%), so a reported
 * quantile is within ~2.2% of a value that was recorded; min, max, count and sum are exact.
 */
const kSubBuckets = 16;
const kLowest = 1e-3; // 1 µs when values are ms; smaller values share the first bucket
const kBuckets = 32 * kSubBuckets; // up to kLowest * 2^32 ≈ 4.3e6 ms ≈ 72 min

export class LogHistogram {
  private readonly counts = new Uint32Array(kBuckets);
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  /** Records one value; negative, NaN and infinite values are ignored. */
  record(value: number): void {
    if (!(value >= 0) || value === Infinity) return;
    const i = value <= kLowest ? 0 : Math.min(kBuckets - 1, Math.floor(Math.log2(value / kLowest) * kSubBuckets));
    this.counts[i]++;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The value at quantile q (0..1); exact at 0 (min) and 1 (max); 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * this.count));
    let seen = 0;
    for (let i = 0; i < kBuckets; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        // Geometric middle of the bucket, kept inside what was actually recorded.
        const mid = kLowest * 2 ** ((i + 0.5) / kSubBuckets);
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }
}
