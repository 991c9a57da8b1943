import { ChannelErrors } from '../protocol';

/** A lock's name: a `beehive.lock` key, or a hot object locked at a worker's first touch. */
export type LockKey = string | object;
/** Shared (readers) or exclusive (a writer, and every `beehive.lock` key). */
export type LockMode = 's' | 'x';

interface Waiter {
  owner: string;
  mode: LockMode;
  grant: () => void;
  refuse: (err: Error) => void;
}

interface Entry {
  mode: LockMode;
  owners: Set<string>;
  waiters: Waiter[];
}

const describe = (key: LockKey) => (typeof key === 'string' ? `'${key}'` : `a hot ${(key as object).constructor?.name ?? 'object'}`);

/**
 * The server's locks, shared by local requests and workers (through the channel): `beehive.lock`
 * keys (exclusive) and the hot objects of contention/ (shared for readers, exclusive for writers).
 * An invocation holds what it took until it commits or is discarded (strict two-phase locking, see
 * channel/invocations.ts); whatever ends it releases everything.
 *
 * Waits are first come, first served: a shared request queues behind a waiting writer, so that
 * writers are not starved. A request that would close a cycle in the waits-for graph is refused at
 * once with DEADLOCK (the requester is the victim; nothing of it has been applied, so it simply runs
 * again), instead of leaving every member of the cycle waiting for its deadline.
 */
export class LockManager {
  private readonly held = new Map<LockKey, Entry>();
  /** What each owner is waiting for (an owner may wait for several keys at once: `Promise.all` of locks). */
  private readonly waiting = new Map<string, Set<LockKey>>();
  /** Requests that had to wait, and requests refused as deadlocks, since start. */
  waits = 0;
  deadlocks = 0;

  acquire(key: LockKey, owner: string, mode: LockMode = 'x'): Promise<void> {
    const cur = this.held.get(key);
    if (!cur) {
      this.held.set(key, { mode, owners: new Set([owner]), waiters: [] });
      return Promise.resolve();
    }
    if (cur.owners.has(owner)) {
      // Re-entrant; a shared holder asking for exclusive is upgraded when it is the only holder.
      if (mode === 's' || cur.mode === 'x') return Promise.resolve();
      if (cur.owners.size === 1) {
        cur.mode = 'x';
        return Promise.resolve();
      }
    } else if (mode === 's' && cur.mode === 's' && cur.waiters.length === 0) {
      cur.owners.add(owner);
      return Promise.resolve();
    }
    if (this.wouldDeadlock(key, owner)) {
      this.deadlocks++;
      return Promise.reject(ChannelErrors.DEADLOCK(`waiting for ${describe(key)} would close a cycle of waits`));
    }
    this.waits++;
    let waits = this.waiting.get(owner);
    if (!waits) this.waiting.set(owner, (waits = new Set()));
    waits.add(key);
    const done = () => {
      waits!.delete(key);
      if (waits!.size === 0) this.waiting.delete(owner);
    };
    return new Promise<void>((grant, refuse) => {
      const w: Waiter = { owner, mode, grant: () => (done(), grant()), refuse: (err) => (done(), refuse(err)) };
      // An upgrade goes first: queued behind a writer that waits for this very holder, it would never be granted.
      if (cur.owners.has(owner)) cur.waiters.unshift(w);
      else cur.waiters.push(w);
    });
  }

  /** Whether `owner` asking for `key` now would have to wait. */
  wouldWait(key: LockKey, owner: string, mode: LockMode = 'x'): boolean {
    const cur = this.held.get(key);
    if (!cur) return false;
    if (cur.owners.has(owner)) return mode === 'x' && cur.mode === 's' && cur.owners.size > 1;
    return !(mode === 's' && cur.mode === 's' && cur.waiters.length === 0);
  }

  /**
   * Whether some holder of `key` waits, directly or through others, for something `owner` holds.
   * The graph is small (the invocations in flight), so a plain search is enough.
   */
  private wouldDeadlock(key: LockKey, owner: string): boolean {
    const seen = new Set<string>();
    const e = this.held.get(key);
    const stack = [...(e?.owners ?? []), ...(e?.owners.has(owner) ? [] : (e?.waiters ?? []).map((w) => w.owner))].filter((o) => o !== owner);
    while (stack.length) {
      const o = stack.pop()!;
      if (o === owner) return true;
      if (seen.has(o)) continue;
      seen.add(o);
      for (const k of this.waiting.get(o) ?? []) {
        const e = this.held.get(k);
        if (!e) continue;
        for (const h of e.owners) if (h !== o) stack.push(h);
        // First come, first served: it also waits for those queued before it.
        for (const w of e.waiters) {
          if (w.owner === o) break;
          stack.push(w.owner);
        }
      }
    }
    return false;
  }

  release(key: LockKey, owner: string): boolean {
    const cur = this.held.get(key);
    if (!cur || !cur.owners.delete(owner)) return false;
    this.grantWaiters(key, cur);
    return true;
  }

  private grantWaiters(key: LockKey, cur: Entry): void {
    while (cur.waiters.length > 0) {
      const next = cur.waiters[0];
      if (cur.owners.size === 0) {
        cur.waiters.shift();
        cur.mode = next.mode;
        cur.owners.add(next.owner);
        next.grant();
        if (next.mode === 'x') return;
        continue;
      }
      if (cur.owners.size === 1 && cur.owners.has(next.owner) && next.mode === 'x') {
        // The remaining holder's own upgrade.
        cur.waiters.shift();
        cur.mode = 'x';
        next.grant();
        return;
      }
      if (next.mode === 's' && cur.mode === 's') {
        cur.waiters.shift();
        cur.owners.add(next.owner);
        next.grant();
        continue;
      }
      return;
    }
    if (cur.owners.size === 0) this.held.delete(key);
  }

  /**
   * Releases whatever `owner` holds and refuses its waits (their acquire rejects): an owner that is
   * gone must neither keep a key nor be granted one later.
   */
  releaseAll(owner: string): void {
    for (const [key, cur] of [...this.held]) {
      const mine = cur.waiters.filter((w) => w.owner === owner);
      if (mine.length) {
        cur.waiters = cur.waiters.filter((w) => w.owner !== owner);
        for (const w of mine) w.refuse(ChannelErrors.LOCK(`${describe(key)}: the invocation ended while waiting`));
      }
      if (cur.owners.has(owner)) this.release(key, owner);
      else if (mine.length) this.grantWaiters(key, cur);
    }
  }

  /** The first holder of `key` (for tests and the state page). */
  holder(key: LockKey): string | undefined {
    return this.held.get(key)?.owners.values().next().value;
  }

  /** Keys held or waited for (for tests and the state page). */
  get size(): number {
    return this.held.size;
  }
}

let localSeq = 0;
/** Runs `fn` under the lock on the server itself. */
export async function withLock<T>(locks: LockManager, key: string, fn: () => T | Promise<T>): Promise<T> {
  const owner = `local:${++localSeq}`;
  await locks.acquire(key, owner);
  try {
    return await fn();
  } finally {
    locks.release(key, owner);
  }
}
