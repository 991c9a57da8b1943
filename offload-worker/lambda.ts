/**
 * AWS Lambda entry point (`index.handler` in the packaged artifact): translates the Lambda event
 * and context to the provider-neutral runtime and nothing else. The event is the InvocationEvent
 * itself (the provider sends it as the invoke payload); the result is returned as the payload.
 */
import { isWarmupEvent, type InvocationEvent, type InvocationResult, type WarmupResult } from '../protocol';
import { capTimeout, nextInvocation } from './instance-meta';
import { handleInvocation } from './runtime';
import { warmUpWorker } from './warm-up';

/** The parts of Lambda's context object the adapter uses. */
export interface LambdaContext {
  awsRequestId?: string;
  callbackWaitsForEmptyEventLoop?: boolean;
  getRemainingTimeInMillis?: () => number;
}

export async function handler(event: unknown, context?: LambdaContext): Promise<InvocationResult | WarmupResult> {
  // The channel socket stays open for the next warm invocation: do not wait for an empty loop.
  if (context) context.callbackWaitsForEmptyEventLoop = false;
  const worker = nextInvocation();
  // A warm-up event (the agent's prewarm) also pays the instance's first-invocation costs.
  if (isWarmupEvent(event)) {
    warmUpWorker();
    return { beehiveWarmup: 1, worker };
  }
  const remaining = context?.getRemainingTimeInMillis?.();
  return handleInvocation(capTimeout(event as InvocationEvent, remaining), worker);
}
