/** Test helpers for the providers: events whose "closure" tells the fixture function what to do. */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { InvocationEvent } from '../../../protocol/invocation';

export const FN = path.join(__dirname, '../../../infra/emulators/test/fixtures/fn');

// The SDK's standard chain reads these: dummy credentials, loopback only.
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALTEST';
process.env.AWS_SECRET_ACCESS_KEY = 'local-test-secret';

export function event(op: Record<string, unknown> = { op: 'result' }, extra: Partial<InvocationEvent> = {}): InvocationEvent {
  return {
    beehive: 1,
    inv: randomUUID(),
    cap: 'cap-' + randomUUID(),
    channel: 'ws://127.0.0.1:1/beehive',
    closure: Buffer.from(JSON.stringify(op)).toString('base64'),
    timeoutMs: 5000,
    ...extra,
  };
}

/** Resolves with the rejection of `p` (fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<any> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e) => e,
  );
}
