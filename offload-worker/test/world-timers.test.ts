import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { nextTurn, WorldGuard, withWorld } from '../world';

/** Runs `fn` under a guard as an invocation does: then waits for what it left pending, and finishes. */
async function underGuard(fn: () => void | Promise<void>): Promise<WorldGuard> {
  const guard = new WorldGuard([]);
  await withWorld(guard, async () => {
    await fn();
    await guard.settle(performance.now() + 10_000);
    await nextTurn();
    guard.finishPending();
  });
  return guard;
}

describe('the world waits for what a handler left pending, and forgets what it cancelled', () => {
  it('a short timer is waited for; a cleared one is not, and is no refusal', async () => {
    const ran: string[] = [];
    const guard = await underGuard(() => {
      setTimeout(() => ran.push('kept'), 5);
      const t = setTimeout(() => ran.push('cleared'), 5);
      clearTimeout(t);
    });
    expect(ran).toEqual(['kept']);
    expect(guard.refusal).toBeUndefined();
    expect(guard.pending.size).toBe(0);
  });

  it('a cleared immediate and a cleared interval are no refusal', async () => {
    const ran: string[] = [];
    const guard = await underGuard(() => {
      const i = setImmediate(() => ran.push('immediate'));
      clearImmediate(i);
      const t = setInterval(() => ran.push('interval'), 5_000);
      clearInterval(t);
      const long = setTimeout(() => ran.push('long'), 60_000);
      clearTimeout(long);
    });
    expect(ran).toEqual([]);
    expect(guard.refusal).toBeUndefined();
  });

  it('an interval that stops itself while the world waits is no refusal', async () => {
    let ticks = 0;
    const guard = await underGuard(() => {
      const t = setInterval(() => {
        if (++ticks === 2) clearInterval(t);
      }, 1);
      // A short timer keeps the world waiting until the interval is gone.
      const wait = () => setTimeout(() => (ticks < 2 ? wait() : undefined), 1);
      wait();
    });
    expect(ticks).toBe(2);
    expect(guard.refusal).toBeUndefined();
  });

  it('a waited timer cleared from a callback the world does not wait for (a port message) is no refusal', async () => {
    const { port1, port2 } = new MessageChannel();
    let fired = false;
    const guard = await underGuard(() => {
      const t = setTimeout(() => (fired = true), 1_000);
      port1.once('message', () => {
        clearTimeout(t);
        port1.close();
      });
      port2.postMessage('clear');
    });
    expect(fired).toBe(false);
    expect(guard.refusal).toBeUndefined();
  });

  it('a timer or interval still pending at the end refuses the invocation, and never runs here', async () => {
    let fired = 0;
    const timer = await underGuard(() => {
      setTimeout(() => fired++, 60_000);
    });
    expect(timer.refusal?.message).toMatch(/60000 ms timer/);
    const interval = await underGuard(() => {
      setInterval(() => fired++, 5_000);
    });
    expect(interval.refusal?.message).toMatch(/interval/);
    expect(fired).toBe(0);
  });
});
