import { types } from 'node:util';
import { ContentionErrors } from './errors';

export interface ContentionOptions {
  /** How fast an object cools: its heat halves every `halfLifeMs` without a new conflict or wait. Default 10 s. */
  halfLifeMs?: number;
  /** Heat at or above which an object is hot. Default 0.5 (one conflict keeps it hot for one half-life). */
  hotAt?: number;
  now?: () => number;
}

interface Heat {
  t: number;
  at: number;
}

/**
 * Which server objects are contended ("hot"), after MOCC (Wang & Kimura, VLDB 2017): optimistic by
 * default; an object that made a commit conflict, or that someone had to wait for, heats up and
 * cools down exponentially. A hot object no longer travels inside a closure: it goes as a remote
 * reference and is locked when a worker first touches it, until that invocation ends — so its lock
 * window runs from the touch to the commit, not over the whole handler.
 *
 * Also remembers which handlers wrote which objects (learned at each commit or conflict): a handler
 * known to write a hot object locks it exclusively, the others share it.
 */
export class Contention {
  private readonly heat = new WeakMap<object, Heat>();
  private readonly writers = new WeakMap<object, Set<string>>();
  private readonly halfLifeMs: number;
  private readonly hotAt: number;
  private readonly now: () => number;
  /** Objects heated since start, and how many times (conflicts and waits). */
  heated = 0;
  heatings = 0;

  constructor(o: ContentionOptions = {}) {
    this.halfLifeMs = o.halfLifeMs ?? 10_000;
    this.hotAt = o.hotAt ?? 0.5;
    this.now = o.now ?? (() => performance.now());
    if (!(this.halfLifeMs > 0)) throw ContentionErrors.OPTION_RANGE('halfLifeMs must be a positive number of milliseconds');
    if (!(this.hotAt > 0)) throw ContentionErrors.OPTION_RANGE('hotAt must be a positive number');
  }

  /** Adds heat to `o` (a conflict on it, a wait for it). Objects that cannot travel as references are ignored. */
  warm(o: object, by = 1): void {
    if (!canBeHot(o)) return;
    const t = this.now();
    const h = this.heat.get(o);
    this.heatings++;
    if (!h) {
      this.heated++;
      this.heat.set(o, { t: by, at: t });
      return;
    }
    h.t = this.decayed(h, t) + by;
    h.at = t;
  }

  isHot(o: object): boolean {
    const h = this.heat.get(o);
    return !!h && this.decayed(h, this.now()) >= this.hotAt;
  }

  private decayed(h: Heat, t: number): number {
    return h.t * Math.pow(0.5, Math.max(0, t - h.at) / this.halfLifeMs);
  }

  noteWrites(handlerId: string, objs: Iterable<object>): void {
    for (const o of objs) {
      let w = this.writers.get(o);
      if (!w) this.writers.set(o, (w = new Set()));
      w.add(handlerId);
    }
  }

  /** Whether `handlerId` has been seen writing `o`. */
  writes(handlerId: string, o: object): boolean {
    return this.writers.get(o)?.has(handlerId) ?? false;
  }
}

/**
 * A hot object travels as a remote reference (offload-worker/remote-ref.ts): a Proxy whose traps reach
 * the fetched copy. That is faithful for plain objects, arrays, Maps and Sets (their methods are
 * bound to the copy) and class instances without built-in state; not for functions (their code
 * travels as a record), buffers, dates, URLs and other built-ins whose methods check their receiver.
 */
export function canBeHot(o: object): boolean {
  if (typeof o !== 'object' || o === null) return false;
  if (types.isMap(o) || types.isSet(o)) return Object.getPrototypeOf(o) === Map.prototype || Object.getPrototypeOf(o) === Set.prototype;
  if (Array.isArray(o)) return Object.getPrototypeOf(o) === Array.prototype;
  if (ArrayBuffer.isView(o) || types.isAnyArrayBuffer(o) || types.isDate(o) || types.isRegExp(o) || types.isBoxedPrimitive(o) || types.isProxy(o)) return false;
  if (types.isNativeError(o) || types.isPromise(o) || types.isWeakMap(o) || types.isWeakSet(o)) return false;
  if (o instanceof URL || o instanceof URLSearchParams) return false;
  return true;
}
