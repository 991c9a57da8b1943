/**
 * Identity of this FaaS instance for warm/cold accounting: a platform reuses a process for many
 * invocations, and only the first one it serves paid the cold start.
 */
import { randomBytes } from 'node:crypto';
import type { InvocationResult } from '../protocol';

const id = `${process.env.AWS_LAMBDA_FUNCTION_NAME ? 'lambda' : process.env.__OW_ACTION_NAME !== undefined ? 'openwhisk' : 'faas'}-${randomBytes(6).toString('hex')}`;
let served = 0;

/** The worker descriptor for the next invocation of this instance. */
export function nextInvocation(): NonNullable<InvocationResult['worker']> {
  return { id, cold: served++ === 0, pid: process.pid };
}

/** Caps the event's own deadline at the platform's, so the worker finishes before it is killed. */
export function capTimeout<T>(event: T, remainingMs: number | undefined): T {
  if (remainingMs === undefined || !Number.isFinite(remainingMs) || typeof event !== 'object' || event === null) return event;
  const e = event as { timeoutMs?: unknown };
  if (typeof e.timeoutMs === 'number' && e.timeoutMs > remainingMs) return { ...event, timeoutMs: Math.max(0, remainingMs) };
  return event;
}
