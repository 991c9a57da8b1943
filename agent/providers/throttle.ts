/**
 * Back-off after a throttle: the platform said "too many", so for a while we do not ask it again
 * and the requests run locally. The window doubles on each consecutive throttle, up to a maximum,
 * and closes at the first success.
 */
export class ThrottleBackoff {
  private until = 0;
  private window = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {}

  /** Milliseconds left in the current back-off window (0 = go ahead). */
  remaining(now = Date.now()): number {
    return Math.max(0, this.until - now);
  }

  throttled(now = Date.now()): void {
    this.window = this.window ? Math.min(this.maxMs, this.window * 2) : this.initialMs;
    this.until = now + this.window;
  }

  succeeded(): void {
    this.window = 0;
    this.until = 0;
  }
}
