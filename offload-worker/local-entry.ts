/**
 * A local worker process (BEEHIVE_PLATFORM=local): the agent forks it and sends invocation events
 * over IPC, as the Lambda service would over its runtime API.
 */
import type { InvocationEvent } from '../protocol';
import { preloadPackages } from './preload';
import { handleInvocation } from './runtime';
import { WorkerErrors } from './errors';
import { warmUpWorker } from './warm-up';

const workerId = process.env.BEEHIVE_WORKER_ID ?? String(process.pid);
let invocations = 0;

/**
 * A send to a server that is gone (it exited while this worker started or ran) fails with EPIPE or
 * ERR_IPC_CHANNEL_CLOSED; without a callback that is an 'error' event, and this process would die
 * printing a stack trace into the app's terminal. Nobody is left to answer: exit quietly.
 */
function send(msg: object): void {
  if (!process.connected) return process.exit(0);
  process.send!(msg, undefined, undefined, (err: Error | null) => {
    if (err) process.exit(0);
  });
}

export function serveIpc(): void {
  if (!process.send) throw WorkerErrors.NO_IPC();
  process.on('message', (msg: { type?: string; id?: number; event?: InvocationEvent }) => {
    if (!msg || msg.type !== 'invoke' || typeof msg.id !== 'number') return;
    const cold = invocations++ === 0;
    void handleInvocation(msg.event as InvocationEvent, { id: workerId, cold, pid: process.pid }).then((result) => {
      send({ type: 'result', id: msg.id, result });
    });
  });
  process.on('disconnect', () => process.exit(0));
  // Part of the cold start, not of the first invocation that needs them.
  preloadPackages();
  send({ type: 'ready', pid: process.pid });
  // Off the start's critical path: the pool counts this worker ready already.
  setImmediate(warmUpWorker);
}

if (require.main === module) serveIpc();
