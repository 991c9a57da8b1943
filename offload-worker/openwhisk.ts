/**
 * Apache OpenWhisk entry point (`main` in the packaged action): translates the action parameters
 * to the provider-neutral runtime and nothing else. The parameters are the InvocationEvent (the
 * provider sends it as the invoke body); the result, a JSON object, is the activation's result.
 */
import { isWarmupEvent, type InvocationEvent, type InvocationResult, type WarmupResult } from '../protocol';
import { capTimeout, nextInvocation } from './instance-meta';
import { handleInvocation } from './runtime';
import { warmUpWorker } from './warm-up';

export async function main(params: Record<string, unknown>): Promise<InvocationResult | WarmupResult> {
  const worker = nextInvocation();
  // A warm-up event (the agent's prewarm) also pays the instance's first-invocation costs.
  if (isWarmupEvent(params)) {
    warmUpWorker();
    return { beehiveWarmup: 1, worker };
  }
  // __OW_DEADLINE: epoch ms at which the platform kills this activation.
  const deadline = Number(process.env.__OW_DEADLINE);
  const remaining = Number.isFinite(deadline) && deadline > 0 ? deadline - Date.now() : undefined;
  return handleInvocation(capTimeout(params as unknown as InvocationEvent, remaining), worker);
}
