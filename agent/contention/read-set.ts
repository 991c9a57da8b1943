import { ChannelErrors, isArrayIndex } from '../../protocol';
import { fingerprint, samePrint, type Fingerprint } from './fingerprint';

/**
 * What one invocation saw of the server's memory: each object shipped to its worker inline (in the
 * closure, a fetch reply or a lock's refresh), with a picture of its own state at that moment. At the
 * commit point every picture must still hold — otherwise the worker computed from state that another
 * request has since changed, and committing would not be equivalent to running the handler
 * atomically there (write skew, lost updates through reads). Objects that went as references and
 * were never fetched were never read, and are not checked.
 *
 * The granularity is the object: a change to any own property of an object the invocation received
 * is a conflict, whether or not the handler read that property. Objects that conflict often become
 * hot (contention/temperature.ts) and then travel as references, read only when touched.
 */
export class ReadSet {
  private readonly prints = new Map<object, Fingerprint>();
  /** Other things read: captured variables that code elsewhere reassigns (each names what moved, or nothing). */
  private readonly checks: Array<() => string | undefined> = [];

  noteCheck(changed: () => string | undefined): void {
    this.checks.push(changed);
  }

  /**
   * Hot objects fetched under their lock: besides the picture, each own property, so that the
   * commit can check just the keys the worker reports it read (through the object's stand-in).
   */
  private readonly keyed = new Map<object, { proto: object | null; props: Map<string | symbol, PropertyDescriptor> }>();

  /**
   * Arrays a worker read in ranges (FetchRange): the elements shipped, each as it was (`HOLE` for
   * none), the length, and the named keys the reply vouched for (not own: inherited). The commit
   * checks the keys the worker reports it read, or, when it reports all, everything shipped — never
   * the rest of a large array, which the invocation never saw.
   */
  private readonly ranges = new Map<unknown[], { length: number; items: Map<number, unknown>; names: readonly string[] }>();

  noteRange(a: unknown[], start: number, end: number, names: readonly string[]): void {
    let r = this.ranges.get(a);
    if (!r) {
      r = { length: a.length, items: new Map(), names };
      this.ranges.set(a, r);
    }
    // A second range of the same invocation: what it saw of the first must still hold then.
    if (r.length !== a.length) r.length = -1;
    for (let i = start; i < end; i++) if (!r.items.has(i)) r.items.set(i, i in a ? a[i] : HOLE);
  }

  /** Records (or, after a refresh, re-records) what `o` looks like now. */
  note(o: object): void {
    this.prints.set(o, fingerprint(o));
  }

  noteKeyed(o: object): void {
    // Shipped just now, so usually pictured already (the fetch reply's encode noted it).
    if (!this.prints.has(o)) this.note(o);
    const props = new Map<string | symbol, PropertyDescriptor>();
    for (const k of Reflect.ownKeys(o)) props.set(k, Reflect.getOwnPropertyDescriptor(o, k)!);
    this.keyed.set(o, { proto: Reflect.getPrototypeOf(o), props });
  }

  has(o: object): boolean {
    return this.prints.has(o);
  }

  get size(): number {
    return this.prints.size;
  }

  objects(): IterableIterator<object> {
    return this.prints.keys();
  }

  /**
   * The objects whose state is no longer what the invocation saw: what a lock's acquire must send
   * afresh. The others are, by their pictures, what the worker already holds.
   */
  stale(): object[] {
    const out: object[] = [];
    for (const [o, fp] of this.prints) if (!samePrint(fingerprint(o), fp)) out.push(o);
    return out;
  }

  /**
   * The first object whose state is no longer what the invocation saw, if any. `readKeys` says, for
   * hot objects fetched under their lock, which keys the handler read (`true`: all of it); the
   * others are checked whole.
   */
  changed(readKeys?: Map<object, Set<string | symbol> | true>): object | undefined {
    for (const [a, r] of this.ranges) if (!sameRange(a, r, readKeys?.get(a), this.prints.has(a))) return a;
    for (const [o, fp] of this.prints) {
      const keys = readKeys?.get(o);
      const snap = this.keyed.get(o);
      if (snap && keys && keys !== true) {
        if (!sameKeys(o, snap, keys)) return o;
        continue;
      }
      if (!samePrint(fingerprint(o), fp)) return o;
    }
    return undefined;
  }

  /** Throws the read conflict, naming the object and carrying it for the temperature. */
  validate(describe: (o: object) => string, readKeys?: Map<object, Set<string | symbol> | true>): void {
    const o = this.changed(readKeys);
    if (o) throw conflictOn(o, 'read', `${describe(o)}, which the invocation read, changed before its commit`);
    for (const changed of this.checks) {
      const what = changed();
      if (what) throw conflictOn(undefined, 'read', `${what}, which the invocation read, was reassigned before its commit`);
    }
  }

  clear(): void {
    this.ranges.clear();
    this.prints.clear();
    this.keyed.clear();
    this.checks.length = 0;
  }
}

export type ConflictReason = 'read' | 'write' | 'deadlock';

/** A CONFLICT error that says why and on which object (the object stays on this side: never serialised). */
export function conflictOn(object: object | undefined, reason: ConflictReason, message: string): Error {
  const err = ChannelErrors.CONFLICT(message);
  Object.defineProperty(err, 'reason', { value: reason, enumerable: true });
  if (object) Object.defineProperty(err, 'object', { value: object, enumerable: false });
  return err;
}

export function conflictReason(err: unknown): ConflictReason | undefined {
  if (!ChannelErrors.CONFLICT.is(err)) return undefined;
  return ((err as { reason?: ConflictReason }).reason ?? 'write') as ConflictReason;
}

/** The prototype's pseudo-key in a worker's read report (offload-worker/remote-ref.ts). */
export const PROTO_KEY = '\0proto';

const HOLE = Symbol('hole');

/**
 * Whether what an invocation read of a range-fetched array still holds: each key it reports (or
 * everything shipped, for `true` or no report). A key it could not have read from what was shipped
 * is a conflict (conservative: it then runs again) — unless the array was fetched whole later in
 * the invocation (`whole`), whose own picture is checked too.
 */
function sameRange(a: unknown[], r: { length: number; items: Map<number, unknown>; names: readonly string[] }, keys: Set<string | symbol> | true | undefined, whole: boolean): boolean {
  if (r.length < 0 || Object.getPrototypeOf(a) !== Array.prototype) return false;
  const sameAt = (i: number): boolean => {
    // Not shipped in a range: read from the whole array fetched later, whose picture is checked
    // with the others; otherwise the worker could not have read it (conservative: a conflict).
    if (!r.items.has(i)) return whole;
    const was = r.items.get(i);
    const d = Object.getOwnPropertyDescriptor(a, i);
    return was === HOLE ? d === undefined : d !== undefined && 'value' in d && Object.is(d.value, was);
  };
  const notOwn = (k: string | symbol) => !Object.prototype.hasOwnProperty.call(a, k);
  if (keys === undefined || keys === true) {
    if (a.length !== r.length) return false;
    for (const i of r.items.keys()) if (!sameAt(i)) return false;
    return r.names.every(notOwn) && Object.getOwnPropertySymbols(a).length === 0;
  }
  for (const k of keys) {
    if (k === PROTO_KEY) continue; // checked above: still Array.prototype
    if (k === 'length') {
      if (a.length !== r.length) return false;
    } else if (typeof k === 'string' && isArrayIndex(k)) {
      if (!sameAt(Number(k))) return false;
    } else if (whole && (typeof k === 'symbol' || !r.names.includes(k))) {
      continue; // read from the whole array: its picture covers it
    } else if (typeof k === 'symbol' || !r.names.includes(k) || !notOwn(k)) return false;
  }
  return true;
}

function sameKeys(o: object, snap: { proto: object | null; props: Map<string | symbol, PropertyDescriptor> }, keys: Set<string | symbol>): boolean {
  for (const k of keys) {
    if (k === PROTO_KEY) {
      if (Reflect.getPrototypeOf(o) !== snap.proto) return false;
      continue;
    }
    const was = snap.props.get(k);
    const now = Reflect.getOwnPropertyDescriptor(o, k);
    if (!was || !now) {
      if (was !== now) return false;
      continue;
    }
    if (!Object.is(was.value, now.value) || was.get !== now.get || was.set !== now.set || was.writable !== now.writable || was.enumerable !== now.enumerable || was.configurable !== now.configurable) return false;
  }
  return true;
}
