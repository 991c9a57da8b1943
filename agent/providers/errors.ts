/**
 * Coded errors of the FaaS providers. Every rejection of `Provider.invoke` is one of these, with a
 * `kind` (an InvokeFailureKind) the dispatcher uses to decide how to re-run the request locally.
 * Each code is documented in docs/errors/platform.md (a test checks it).
 */
import { defineErrors, type BeehiveError, type InvokeFailureKind } from '../../protocol';

export const PlatformErrors = defineErrors('PLATFORM', {
  THROTTLED: ['BEEHIVE_ERR_PLATFORM_THROTTLED', 'the platform throttled the invocation (concurrency limit reached)'],
  TIMEOUT: ['BEEHIVE_ERR_PLATFORM_TIMEOUT', 'the invocation did not complete in time'],
  CRASH: ['BEEHIVE_ERR_PLATFORM_CRASH', 'the worker instance died during the invocation'],
  NOT_FOUND: ['BEEHIVE_ERR_PLATFORM_NOT_FOUND', 'the function or action does not exist'],
  PAYLOAD_TOO_LARGE: ['BEEHIVE_ERR_PLATFORM_PAYLOAD_TOO_LARGE', 'the invocation payload or its result exceeds the platform limit'],
  MALFORMED_RESPONSE: ['BEEHIVE_ERR_PLATFORM_MALFORMED_RESPONSE', 'the worker answered with something that is not an invocation result'],
  FUNCTION_ERROR: ['BEEHIVE_ERR_PLATFORM_FUNCTION_ERROR', 'the worker function failed with an error'],
  UNAVAILABLE: ['BEEHIVE_ERR_PLATFORM_UNAVAILABLE', 'the platform could not be reached or answered with a server error'],
  AUTH: ['BEEHIVE_ERR_PLATFORM_AUTH', 'the platform rejected the credentials'],
  REJECTED: ['BEEHIVE_ERR_PLATFORM_REJECTED', 'the platform rejected the request'],
  CLOSED: ['BEEHIVE_ERR_PLATFORM_CLOSED', 'the provider is closed'],
});

export type PlatformErrorKey = keyof typeof PlatformErrors;

/** The failure kind each code maps to, for the dispatcher. */
const kinds: Record<PlatformErrorKey, InvokeFailureKind> = {
  THROTTLED: 'throttled',
  TIMEOUT: 'timeout',
  CRASH: 'crash',
  NOT_FOUND: 'not-found',
  PAYLOAD_TOO_LARGE: 'payload-too-large',
  MALFORMED_RESPONSE: 'serialize',
  FUNCTION_ERROR: 'crash',
  UNAVAILABLE: 'platform',
  AUTH: 'platform',
  REJECTED: 'platform',
  CLOSED: 'platform',
};

/** A provider failure: a BeehiveError with the `kind` the Provider contract promises. */
export type InvokeError = BeehiveError & { kind: InvokeFailureKind };

export function invokeError(key: PlatformErrorKey, message?: string, cause?: unknown): InvokeError {
  const err = PlatformErrors[key](message, cause === undefined ? undefined : { cause }) as InvokeError;
  err.kind = kinds[key];
  return err;
}

export function isInvokeError(err: unknown): err is InvokeError {
  return err instanceof Error && typeof (err as InvokeError).kind === 'string' && typeof (err as InvokeError).code === 'string';
}
