'use strict';
// The elastic benchmark's figures from one open-loop run, pure (no I/O): per-second p50/p99 by
// scheduled send time, p99 per window, the recovery time after the burst's onset, the steady-state
// p99, and from the controller's trace when the ratio rose and when it was back at 0.

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);

function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((p, q) => p - q);
  if (!v.length) return null;
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/** Median where null means "never" (longest): null when the middle run never got there. */
function medianOrNever(xs) {
  const v = xs.map((x) => (x === null || x === undefined ? Infinity : x)).sort((p, q) => p - q);
  if (!v.length) return null;
  const m = v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return Number.isFinite(m) ? m : null;
}

/** p99 of the latencies sent in each `windowMs` window (a failed request counts as Infinity). */
function windowP99(sends, lat, totalMs, windowMs) {
  const w = Array.from({ length: Math.ceil(totalMs / windowMs) }, () => []);
  for (let k = 0; k < sends.length; k++) w[Math.min(w.length - 1, Math.floor(sends[k] / windowMs))].push(Number.isNaN(lat[k]) ? Infinity : lat[k]);
  return w.map((x) => (x.sort((p, q) => p - q), x.length ? quantile(x, 0.99) : null));
}

/**
 * Seconds from `fromS` until every window in the next `sustainMs` has p99 ≤ slo (empty windows
 * count as fine), searched up to `toS`; null when that never happens.
 */
function recoveryS(wp99, windowMs, fromS, toS, slo, sustainMs) {
  const w0 = Math.round((fromS * 1000) / windowMs);
  const w1 = Math.round((toS * 1000) / windowMs);
  const need = Math.round(sustainMs / windowMs);
  for (let w = w0; w + need <= w1; w++) {
    let ok = true;
    for (let j = w; j < w + need && ok; j++) ok = wp99[j] === null || wp99[j] <= slo;
    if (ok) return ((w - w0) * windowMs) / 1000;
  }
  return null;
}

function perSecond(sends, lat, totalMs) {
  const rows = Array.from({ length: Math.ceil(totalMs / 1000) }, (_, t) => ({ t, sent: 0, ok: 0, lat: [] }));
  for (let k = 0; k < sends.length; k++) {
    const s = rows[Math.min(rows.length - 1, Math.floor(sends[k] / 1000))];
    s.sent++;
    if (!Number.isNaN(lat[k])) {
      s.ok++;
      s.lat.push(lat[k]);
    }
  }
  return rows.map((s) => {
    s.lat.sort((p, q) => p - q);
    return { t: s.t, sent: s.sent, ok: s.ok, p50: quantile(s.lat, 0.5), p99: quantile(s.lat, 0.99) };
  });
}

/** p99 over all requests sent in [fromS, toS). */
function p99Between(sends, lat, fromS, toS) {
  const v = [];
  for (let k = 0; k < sends.length; k++) if (sends[k] >= fromS * 1000 && sends[k] < toS * 1000) v.push(Number.isNaN(lat[k]) ? Infinity : lat[k]);
  v.sort((p, q) => p - q);
  return quantile(v, 0.99);
}

/**
 * From the controller's trace ([{at (epoch ms), ratio}], t0Epoch the schedule's start): seconds from
 * the onset to the first decision above 0, and from the burst's end to the decision after which the
 * ratio stays 0 (null if it does not). Ratio before the onset: the highest seen in the steady part.
 */
function ratioTimes(trace, t0Epoch, onsetS, endS) {
  const pts = trace.map((p) => ({ t: (p.at - t0Epoch) / 1000, ratio: p.ratio }));
  const steady = pts.filter((p) => p.t >= 0 && p.t < onsetS);
  const up = pts.find((p) => p.t >= onsetS && p.ratio > 0);
  let lastNonZero = -1;
  pts.forEach((p, i) => {
    if (p.ratio > 0) lastNonZero = i;
  });
  const zero = pts[lastNonZero + 1];
  let changes = 0;
  for (let i = 1; i < pts.length; i++) if (pts[i].t >= 0 && pts[i].ratio !== pts[i - 1].ratio) changes++;
  return {
    maxRatioSteady: steady.length ? Math.max(...steady.map((p) => p.ratio)) : null,
    ratioUpS: up ? Math.round((up.t - onsetS) * 1000) / 1000 : null,
    ratioZeroAfterEndS: lastNonZero < 0 ? 0 : zero ? Math.round(Math.max(0, zero.t - endS) * 1000) / 1000 : null,
    ratioChanges: changes,
    peakRatio: pts.length ? Math.max(...pts.map((p) => p.ratio)) : 0,
  };
}

/** Per-second ratio (the last decision within each second) for the chart and the table. */
function ratioPerSecond(trace, t0Epoch, totalS) {
  const out = [];
  let k = 0;
  let cur = 0;
  for (let t = 0; t < totalS; t++) {
    let max = cur;
    while (k < trace.length && (trace[k].at - t0Epoch) / 1000 < t + 1) {
      cur = trace[k].ratio;
      if ((trace[k].at - t0Epoch) / 1000 >= t) max = Math.max(max, cur);
      k++;
    }
    out.push({ t, ratio: cur, max });
  }
  return out;
}

module.exports = { quantile, median, medianOrNever, windowP99, recoveryS, perSecond, p99Between, ratioTimes, ratioPerSecond };
