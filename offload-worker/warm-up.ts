import { decode, encode } from '../protocol';
import { prestartChannelThread } from './channel/client';
import { indexPackages } from './package-origin';

let done = false;

/**
 * A fresh worker's one-time costs, paid when it starts rather than by its first invocation. Measured
 * on a local worker's first invocation of a trivial handler (decode 10 ms, encode 20-35 ms against
 * 0.5-1 ms for the next): the index of the packages it loaded (built at the first outcome's encode),
 * the channel's helper thread (5-10 ms to create), and the codec's own first runs (V8 compiles a
 * function at its first call). Nothing here touches the server or app state: the codec round trip
 * is over a value of its own, the thread waits for its first invocation's URL.
 */
export function warmUpWorker(): void {
  if (done) return;
  done = true;
  try {
    prestartChannelThread();
    indexPackages();
    const when = new Date(0);
    const sample = {
      s: 'text',
      n: [1, -2.5, 2 ** 40, NaN],
      o: { a: null, b: undefined, c: true, d: { e: [when, /x/g, 10n] } },
      m: new Map<unknown, unknown>([['k', { v: 1 }]]),
      set: new Set(['a']),
      b: Buffer.from('warm'),
      u8: new Uint8Array([1, 2, 3]),
    };
    decode(encode({ ...sample, again: sample }).bytes);
  } catch {
    /* the first invocation pays instead */
  }
}
