/**
 * `beehive.lock(key, fn)`'s server side: one FIFO mutex per key, shared by local requests and
 * workers (through the channel). A holder that goes away (its invocation ends) releases its locks.
 */
export class LockManager {
  private readonly held = new Map<string, { owner: string; waiters: Array<{ owner: string; grant: () => void }> }>();

  acquire(key: string, owner: string): Promise<void> {
    const cur = this.held.get(key);
    if (!cur) {
      this.held.set(key, { owner, waiters: [] });
      return Promise.resolve();
    }
    return new Promise<void>((grant) => cur.waiters.push({ owner, grant }));
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

  /** Releases whatever `owner` holds and forgets its waits. */
  releaseAll(owner: string): void {
    for (const [key, cur] of [...this.held]) {
      cur.waiters = cur.waiters.filter((w) => w.owner !== owner);
      if (cur.owner === owner) this.release(key, owner);
    }
  }

  holder(key: string): string | undefined {
    return this.held.get(key)?.owner;
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
