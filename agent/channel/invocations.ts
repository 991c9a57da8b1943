import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Lease } from '../../gc';
import { ChannelErrors } from '../../protocol';
import { applyChangeSets } from '../offload';
import { conflictOn, Contention, ReadSet } from '../contention';
import { LockManager } from '../locks';

/** What the server knows of one in-flight invocation. */
export interface InvocationRecord {
  id: string;
  cap: Buffer;
  lease: Lease;
  handlerId: string;
  /** The closure when it travels over the channel instead of the invoke payload. */
  closure?: Buffer;
  refined: Set<number>;
  fetched: number;
  /** Keys of beehive.lock this invocation holds: until it commits or is discarded. */
  locks: Set<string>;
  /**
   * Dirty sets pushed at each lock release, in order, not yet applied: they become visible at the
   * commit point, after which the keys are released (strict two-phase locking).
   */
  pendingLocks: unknown[];
  /** Set when a channel operation failed in a way the handler may have seen: the commit is refused. */
  doomed?: Error;
  shadow: boolean;
  /** What the worker was shipped of the server's memory, validated at the commit point. */
  reads: ReadSet;
  /** Hot objects this invocation locked at first touch (released with everything else when it ends). */
  objectLocks: number;
  /** A Nest invocation's rule for classes whose methods assign captured variables: fetches follow it too. */
  allowMemberWrites?: (cls: object, members: string[]) => boolean;
  /** Pack records still being prepared when the closure was captured. */
  packs: Array<Promise<{ unpacker: string }>>;
  /** Called once when the invocation ends (a worker's wait on a server promise stops there). */
  onEnd?: Array<() => void>;
}

/** How many ended invocations are remembered, to refuse their late messages with ENDED. */
const ENDED_MEMORY = 4096;

/**
 * The table of live invocations and their capabilities, and the one place an invocation ends:
 * `commit` (its lock changes, then its final changes, all or nothing) or `close` (discarded), both
 * idempotent and keyed by the invocation id. Either releases everything the invocation held: its
 * lease, its lock keys and waits, its parked closure, its pending lock changes and its packs.
 */
export class Invocations {
  private readonly live = new Map<string, InvocationRecord>();
  /** Ended invocations (id → capability), oldest first, so that a late message gets a precise refusal. */
  private readonly ended = new Map<string, Buffer>();
  private seq = 0;

  constructor(
    readonly locks: LockManager = new LockManager(),
    readonly contention: Contention = new Contention(),
  ) {}

  open(handlerId: string, lease: Lease, refined: Set<number>, shadow = false): { record: InvocationRecord; cap: string } {
    const cap = randomBytes(24);
    const id = `${process.pid.toString(36)}-${(++this.seq).toString(36)}-${randomBytes(4).toString('hex')}`;
    const record: InvocationRecord = { id, cap, lease, handlerId, refined, fetched: 0, locks: new Set(), pendingLocks: [], shadow, reads: new ReadSet(), objectLocks: 0, packs: [] };
    this.live.set(id, record);
    return { record, cap: cap.toString('base64url') };
  }

  /**
   * The invocation if `cap` is its capability (constant-time compare), else undefined. A correct
   * capability for an invocation that has ended throws ENDED: its late work is refused, not lost.
   */
  authorize(inv: unknown, cap: unknown): InvocationRecord | undefined {
    if (typeof inv !== 'string' || typeof cap !== 'string') return undefined;
    const given = Buffer.from(cap, 'base64url');
    const r = this.live.get(inv);
    if (!r) {
      const old = this.ended.get(inv);
      if (old && given.length === old.length && timingSafeEqual(given, old)) throw ChannelErrors.ENDED(`invocation ${inv}`);
      return undefined;
    }
    if (given.length !== r.cap.length || !timingSafeEqual(given, r.cap)) return undefined;
    return r;
  }

  /**
   * The commit point of the server's memory: the lock releases' dirty sets in order, then `changes`,
   * validated and applied all or nothing; then the invocation ends (its keys are released only now,
   * so nobody saw its lock changes before they were final). Refused with ENDED when it has already
   * ended, and with the doom reason when a channel operation of it failed. Ends the invocation
   * whatever the result.
   */
  commit(id: string, changes: unknown, reads?: unknown): number {
    const r = this.live.get(id);
    if (!r) throw ChannelErrors.ENDED(`invocation ${id}`);
    const sets = [...r.pendingLocks, changes];
    try {
      if (r.doomed) throw r.doomed;
      if (r.shadow) return 0;
      // Reads first, against the state before any of this invocation's writes: with them still
      // true, applying the writes now is the handler running atomically here (serializability).
      r.reads.validate(describeObject, readKeysOf(reads, r));
      return applyChangeSets(sets, (oid) => r.lease.get(oid));
    } catch (err) {
      const on = (err as { object?: object }).object;
      if (on && ChannelErrors.CONFLICT.is(err)) this.contention.warm(on);
      throw err;
    } finally {
      // Learned either way: a handler that writes an object locks it exclusively once it is hot.
      if (!r.shadow) this.contention.noteWrites(r.handlerId, writtenObjects(sets, r));
      this.close(id);
    }
  }

  /** Refuses an invocation chosen as a deadlock's victim: it ends as a conflict and runs again. */
  deadlockVictim(r: InvocationRecord, err: Error): Error {
    const c = conflictOn(undefined, 'deadlock', err.message);
    this.doom(r, c);
    return c;
  }

  /**
   * Marks an invocation as unable to commit and releases its keys at once: nothing it did under
   * them will ever be applied, so the next holder need not wait for it.
   */
  doom(r: InvocationRecord, err: Error): void {
    r.doomed ??= err;
    r.pendingLocks = [];
    r.locks.clear();
    this.locks.releaseAll(r.id);
  }

  /** Ends an invocation without applying anything. Idempotent; returns the record the first time. */
  close(id: string): InvocationRecord | undefined {
    const r = this.live.get(id);
    if (!r) return undefined;
    this.live.delete(id);
    this.ended.set(id, r.cap);
    if (this.ended.size > ENDED_MEMORY) this.ended.delete(this.ended.keys().next().value as string);
    r.lease.release();
    r.locks.clear();
    this.locks.releaseAll(id);
    r.pendingLocks = [];
    r.closure = undefined;
    r.packs.length = 0;
    r.reads.clear();
    for (const f of r.onEnd?.splice(0) ?? []) f();
    return r;
  }

  isLive(id: string): boolean {
    return this.live.has(id);
  }

  get size(): number {
    return this.live.size;
  }
}

/** The objects a commit's dirty sets name (well-formed entries only: the apply validates the rest). */
function writtenObjects(sets: unknown[], r: InvocationRecord): object[] {
  const out: object[] = [];
  for (const set of sets) {
    if (!Array.isArray(set)) continue;
    for (const c of set as Array<{ id?: unknown }>) {
      const o = typeof c?.id === 'number' ? r.lease.get(c.id) : undefined;
      if (o) out.push(o);
    }
  }
  return out;
}

/** A short, value-free name for an object in a conflict message (no app data in logs). */
export function describeObject(o: object): string {
  if (Array.isArray(o)) return `an array of ${o.length}`;
  if (o instanceof Map) return `a Map of ${o.size}`;
  if (o instanceof Set) return `a Set of ${o.size}`;
  const name = (o as { constructor?: { name?: string } }).constructor?.name;
  const keys = Object.keys(o).slice(0, 4);
  return `${name && name !== 'Object' ? `a ${name}` : 'an object'} {${keys.join(', ')}${Object.keys(o).length > 4 ? ', …' : ''}}`;
}

/** A worker's read report ([id, keys | null] per remote object it loaded), resolved to its objects. */
function readKeysOf(reads: unknown, r: InvocationRecord): Map<object, Set<string | symbol> | true> | undefined {
  if (reads === undefined) return undefined;
  if (!Array.isArray(reads)) throw ChannelErrors.MALFORMED('reads must be a list');
  const out = new Map<object, Set<string | symbol> | true>();
  for (const entry of reads) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'number' || !(entry[1] === null || Array.isArray(entry[1]))) throw ChannelErrors.MALFORMED('a read is [id, keys | null]');
    const o = r.lease.get(entry[0]);
    if (!o) throw ChannelErrors.FORBIDDEN(`object ${entry[0]}`);
    const keys = entry[1] as unknown[] | null;
    if (keys === null) out.set(o, true);
    else {
      if (!keys.every((k) => typeof k === 'string' || typeof k === 'symbol')) throw ChannelErrors.MALFORMED('read keys are strings or symbols');
      out.set(o, new Set(keys as Array<string | symbol>));
    }
  }
  return out;
}
