import { describe, expect, it } from 'vitest';
import { LockManager } from '../locks';

/** Records the order in which acquires are granted (or refused, with their code). */
function recorder(locks: LockManager) {
  const log: string[] = [];
  const take = (key: string | object, owner: string, mode: 's' | 'x' = 'x') =>
    locks.acquire(key, owner, mode).then(
      () => void log.push(`${owner}+${typeof key === 'string' ? key : 'obj'}`),
      (err: { code?: string }) => void log.push(`${owner}!${err.code}`),
    );
  return { log, take };
}
const settle = () => new Promise((r) => setImmediate(r));

describe('LockManager', () => {
  it('grants exclusive locks first come, first served, and re-entrantly to their holder', async () => {
    const locks = new LockManager();
    const { log, take } = recorder(locks);
    void take('k', 'a');
    void take('k', 'b');
    void take('k', 'c');
    void take('k', 'a');
    await settle();
    expect(log).toEqual(['a+k', 'a+k']);
    locks.release('k', 'a');
    await settle();
    expect(log).toEqual(['a+k', 'a+k', 'b+k']);
    locks.release('k', 'b');
    await settle();
    expect(log.at(-1)).toBe('c+k');
    expect(locks.waits).toBe(2);
  });

  it('shares a lock among readers, queues a writer, and does not let later readers overtake it', async () => {
    const locks = new LockManager();
    const o = {};
    const { log, take } = recorder(locks);
    void take(o, 'r1', 's');
    void take(o, 'r2', 's');
    void take(o, 'w', 'x');
    void take(o, 'r3', 's');
    await settle();
    expect(log).toEqual(['r1+obj', 'r2+obj']);
    expect(locks.wouldWait(o, 'r4', 's')).toBe(true);
    locks.release(o, 'r1');
    await settle();
    expect(log).toEqual(['r1+obj', 'r2+obj']);
    locks.release(o, 'r2');
    await settle();
    expect(log.at(-1)).toBe('w+obj');
    locks.release(o, 'w');
    await settle();
    expect(log.at(-1)).toBe('r3+obj');
  });

  it('upgrades a sole reader at once, and a reader among others when they leave', async () => {
    const locks = new LockManager();
    const o = {};
    const { log, take } = recorder(locks);
    await take(o, 'a', 's');
    await take(o, 'a', 'x');
    expect(locks.wouldWait(o, 'b', 's')).toBe(true);
    locks.release(o, 'a');
    await take(o, 'a', 's');
    await take(o, 'b', 's');
    void take(o, 'a', 'x');
    await settle();
    expect(log.filter((l) => l === 'a+obj')).toHaveLength(3);
    locks.release(o, 'b');
    await settle();
    expect(log.filter((l) => l === 'a+obj')).toHaveLength(4);
  });

  it('refuses the wait that would close a cycle (two keys in opposite orders) with DEADLOCK', async () => {
    const locks = new LockManager();
    const { log, take } = recorder(locks);
    await take('x', 'a');
    await take('y', 'b');
    void take('y', 'a');
    await settle();
    await take('x', 'b');
    expect(log).toEqual(['a+x', 'b+y', 'b!BEEHIVE_ERR_CHANNEL_DEADLOCK']);
    expect(locks.deadlocks).toBe(1);
    // The victim gives up what it held: the other goes on.
    locks.releaseAll('b');
    await settle();
    expect(log.at(-1)).toBe('a+y');
  });

  it('finds longer cycles, through queued waiters too', async () => {
    const locks = new LockManager();
    const { log, take } = recorder(locks);
    await take('k1', 'a');
    await take('k2', 'b');
    await take('k3', 'c');
    void take('k2', 'a');
    void take('k3', 'b');
    await settle();
    await take('k1', 'c');
    expect(log.at(-1)).toBe('c!BEEHIVE_ERR_CHANNEL_DEADLOCK');
    // Queue order: d waits behind e for k4, e waits for k5 that d holds.
    const l2 = new LockManager();
    const r = recorder(l2);
    await r.take('k4', 'h');
    await r.take('k5', 'd');
    void r.take('k4', 'e');
    void r.take('k5', 'e');
    await settle();
    await r.take('k4', 'd');
    expect(r.log.at(-1)).toBe('d!BEEHIVE_ERR_CHANNEL_DEADLOCK');
  });

  it('two readers both upgrading: the second is the deadlock victim', async () => {
    const locks = new LockManager();
    const o = {};
    const { log, take } = recorder(locks);
    await take(o, 'a', 's');
    await take(o, 'b', 's');
    void take(o, 'a', 'x');
    await settle();
    await take(o, 'b', 'x');
    expect(log.at(-1)).toBe('b!BEEHIVE_ERR_CHANNEL_DEADLOCK');
    locks.releaseAll('b');
    await settle();
    expect(log.at(-1)).toBe('a+obj');
  });

  it("releaseAll refuses the owner's waits and hands its keys to the next in line", async () => {
    const locks = new LockManager();
    const { log, take } = recorder(locks);
    await take('k', 'a');
    void take('k', 'b');
    void take('j', 'c');
    await settle();
    void take('j', 'b');
    await settle();
    locks.releaseAll('b');
    await settle();
    expect(log).toContain('b!BEEHIVE_ERR_CHANNEL_LOCK');
    locks.releaseAll('a');
    expect(locks.holder('k')).toBeUndefined();
    expect(locks.holder('j')).toBe('c');
  });
});
