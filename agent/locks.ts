import { ChannelErrors } from '../protocol';

interface Waiter {
  owner: string;
  grant: () => void;
  refuse: (err: Error) => void;
}

/**
 * `beehive.lock(key, fn)`'s server side: one FIFO mutex per key, shared by local requests and
 * workers (through the channel). An invocation holds its keys until it commits or is discarded
 * (strict two-phase locking, see channel/invocations.ts); whatever ends it releases them.
 */
export class LockManager {
  private readonly held = new Map<string, { owner: string; waiters: Waiter[] }>();

  acquire(key: string, owner: string): Promise<void> {
    const cur = this.held.get(key);
    if (!cur) {
      this.held.set(key, { owner, waiters: [] });
      return Promise.resolve();
    }
    return new Promise<void>((grant, refuse) => cur.waiters.push({ owner, grant, refuse }));
  }

  release(key: string, owner: string): boolean {
    const cur = this.held.get(key);
    if (!cur || cur.owner !== owner) return false;
    const next = cur.waiters.shift();
    if (!next) this.held.delete(key);
    else {
      cur.owner = next.owner;
      next.grant();
    }
    return true;
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
        for (const w of mine) w.refuse(ChannelErrors.LOCK(`'${key}': the invocation ended while waiting`));
      }
      if (cur.owner === owner) this.release(key, owner);
    }
  }

  holder(key: string): string | undefined {
    return this.held.get(key)?.owner;
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
