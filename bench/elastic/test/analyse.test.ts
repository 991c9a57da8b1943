import { describe, expect, it } from 'vitest';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const an = require('../analyse.js');

describe('elastic benchmark analysis', () => {
  // 10 requests a second for 6 s: 20 ms each, except those sent in [2 s, 3.5 s), which took 400 ms.
  const sends = Float64Array.from({ length: 60 }, (_, k) => k * 100);
  const lat = Float64Array.from(sends, (t) => (t >= 2000 && t < 3500 ? 400 : 20));

  it('per-second and per-window p99 by scheduled send time', () => {
    const rows = an.perSecond(sends, lat, 6000);
    expect(rows.map((r: { p99: number }) => r.p99)).toEqual([20, 20, 400, 400, 20, 20]);
    expect(rows[3].p50).toBe(400); // 3.0-3.4 s: 5 slow, 3.5-3.9 s: 5 fast: the upper middle
    const w = an.windowP99(sends, lat, 6000, 500);
    expect(w).toEqual([20, 20, 20, 20, 400, 400, 400, 20, 20, 20, 20, 20]);
  });

  it('recovery: from the onset until p99 stays under the SLO for the sustain time', () => {
    const w = an.windowP99(sends, lat, 6000, 500);
    // Onset at 2 s: windows from 3.5 s on are fine, and 2 s of them fit before 6 s.
    expect(an.recoveryS(w, 500, 2, 6, 100, 2000)).toBe(1.5);
    // 3 s of fine windows do not fit after 3.5 s within 6 s: never.
    expect(an.recoveryS(w, 500, 2, 6, 100, 3000)).toBe(null);
    // A failed request counts as over the SLO.
    const failed = Float64Array.from(lat);
    failed[40] = NaN; // sent at 4.0 s
    expect(an.recoveryS(an.windowP99(sends, failed, 6000, 500), 500, 2, 6, 100, 1000)).toBe(2.5);
  });

  it('steady-state p99 over an interval', () => {
    expect(an.p99Between(sends, lat, 0, 2)).toBe(20);
    expect(an.p99Between(sends, lat, 0, 6)).toBe(400);
  });

  it('when the ratio rose after the onset and when it was back at 0 after the end', () => {
    const t0 = 1_000_000;
    const trace = [0, 0, 0, 1, 1, 0.8, 0.8, 0, 0].map((ratio, i) => ({ at: t0 + 250 + i * 500, ratio }));
    // Decisions at 0.25, 0.75, ... 4.25 s; onset 1.5 s, end 3.0 s.
    expect(an.ratioTimes(trace, t0, 1.5, 3.0)).toEqual({ maxRatioSteady: 0, ratioUpS: 0.25, ratioZeroAfterEndS: 0.75, ratioChanges: 3, peakRatio: 1 });
    // Never back to 0: null.
    expect(an.ratioTimes([...trace.slice(0, 6)], t0, 1.5, 3.0).ratioZeroAfterEndS).toBe(null);
    // The last decision in each second: 0.75 s, 1.75 s, 2.75 s, 3.75 s, 4.25 s.
    expect(an.ratioPerSecond(trace, t0, 5).map((r: { ratio: number }) => r.ratio)).toEqual([0, 1, 0.8, 0, 0]);
  });

  it('medians, where null is "never"', () => {
    expect(an.median([3, null, 1, 2])).toBe(2);
    expect(an.medianOrNever([0.5, null, 0.7])).toBe(0.7);
    expect(an.medianOrNever([0.5, null, null])).toBe(null);
  });
});
