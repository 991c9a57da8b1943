/**
 * Reads an OpenWhisk activation record: billed duration and memory, cold start (initTime), and the
 * outcome (success, application error, action developer error, whisk internal error) mapped to
 * our error codes.
 */
import type { PlatformErrorKey } from './errors';

export interface Activation {
  activationId: string;
  duration?: number;
  response: { status?: string; success?: boolean; result?: unknown };
  annotations?: Array<{ key: string; value: unknown }>;
}

export function isActivation(v: unknown): v is Activation {
  const a = v as Activation;
  return typeof v === 'object' && v !== null && typeof a.activationId === 'string' && typeof a.response === 'object' && a.response !== null;
}

export function annotation(a: Activation, key: string): unknown {
  return a.annotations?.find((x) => x?.key === key)?.value;
}

/** Memory (MB) from the limits annotation, if present. */
export function memoryOf(a: Activation): number | undefined {
  const limits = annotation(a, 'limits') as { memory?: unknown } | undefined;
  return typeof limits?.memory === 'number' ? limits.memory : undefined;
}

export function isCold(a: Activation): boolean {
  return annotation(a, 'initTime') !== undefined;
}

/** Why an activation failed, as our code; undefined when it succeeded. */
export function classifyActivation(a: Activation): { key: PlatformErrorKey; message: string } | undefined {
  const { status, success, result } = a.response;
  if (success === true || status === 'success') return undefined;
  const err = (result as { error?: unknown } | undefined)?.error;
  const message = `${status ?? 'failed'}: ${typeof err === 'string' ? err : JSON.stringify(err ?? null)}`;
  if (status === 'whisk internal error') return { key: 'UNAVAILABLE', message };
  if (status === 'action developer error') {
    if (annotation(a, 'timeout') === true || /exceeded its time limits/.test(message)) return { key: 'TIMEOUT', message };
    if (/exited unexpectedly|did not produce a valid response/.test(message)) return { key: 'CRASH', message };
    if (/exceeded the allowed length/.test(message)) return { key: 'PAYLOAD_TOO_LARGE', message };
    if (/did not return a dictionary|not a valid JSON/.test(message)) return { key: 'MALFORMED_RESPONSE', message };
  }
  return { key: 'FUNCTION_ERROR', message };
}

/** Maps a client rejection without an activation (HTTP status or network failure) to our code. */
export function classifyHttpError(err: unknown): PlatformErrorKey {
  const status = (err as { statusCode?: number })?.statusCode;
  if (status === 429) return 'THROTTLED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 401 || status === 403) return 'AUTH';
  if (status === 400) return 'REJECTED';
  return 'UNAVAILABLE';
}
