import { ChannelErrors } from '../../protocol';
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

  /** Records (or, after a refresh, re-records) what `o` looks like now. */
  note(o: object): void {
    this.prints.set(o, fingerprint(o));
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

  /** The first object whose state is no longer what the invocation saw, if any. */
  changed(): object | undefined {
    for (const [o, fp] of this.prints) if (!samePrint(fingerprint(o), fp)) return o;
    return undefined;
  }

  /** Throws the read conflict, naming the object and carrying it for the temperature. */
  validate(describe: (o: object) => string): void {
    const o = this.changed();
    if (o) throw conflictOn(o, 'read', `${describe(o)}, which the invocation read, changed before its commit`);
    for (const changed of this.checks) {
      const what = changed();
      if (what) throw conflictOn(undefined, 'read', `${what}, which the invocation read, was reassigned before its commit`);
    }
  }

  clear(): void {
    this.prints.clear();
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
