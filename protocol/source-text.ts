/**
 * Finding a function's text in the source both sides hold (a callback's description names its code
 * and place: agent/offload/5-callbacks.ts rebuilds it, offload-worker/callbacks.ts describes it):
 * the occurrence of `text` in `src` closest to `near`.
 */
export function nearest(src: string, text: string, near: number): number {
  let best = -1;
  for (let i = src.indexOf(text); i >= 0; i = src.indexOf(text, i + 1)) {
    if (best < 0 || Math.abs(i - near) < Math.abs(best - near)) best = i;
    if (i > near) break;
  }
  return best;
}
