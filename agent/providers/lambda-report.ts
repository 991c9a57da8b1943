/**
 * Reads what Lambda tells us about an invocation: the REPORT line of the log tail (billed duration,
 * memory size, init duration = cold start) and the Unhandled error body, mapped to our codes.
 */
import type { PlatformErrorKey } from './errors';

export interface LambdaReport {
  durationMs: number;
  billedMs: number;
  memoryMB: number;
  maxMemoryUsedMB: number;
  initMs?: number;
}

const REPORT = /REPORT RequestId: \S+\s+Duration: ([\d.]+) ms\s+Billed Duration: (\d+) ms\s+Memory Size: (\d+) MB\s+Max Memory Used: (\d+) MB(?:\s+Init Duration: ([\d.]+) ms)?/;

/** Parses the REPORT line out of a base64 X-Amz-Log-Result, if it is there. */
export function parseReport(logResult: string | undefined): LambdaReport | undefined {
  if (!logResult) return undefined;
  const m = REPORT.exec(Buffer.from(logResult, 'base64').toString('utf8'));
  if (!m) return undefined;
  return {
    durationMs: Number(m[1]),
    billedMs: Number(m[2]),
    memoryMB: Number(m[3]),
    maxMemoryUsedMB: Number(m[4]),
    initMs: m[5] === undefined ? undefined : Number(m[5]),
  };
}

/** Classifies an Unhandled function error body ({errorType, errorMessage}). */
export function classifyFunctionError(payload: string): { key: PlatformErrorKey; message: string } {
  let body: { errorType?: unknown; errorMessage?: unknown } = {};
  try {
    body = JSON.parse(payload) ?? {};
  } catch {
    return { key: 'MALFORMED_RESPONSE', message: `function error with an unreadable body: ${payload.slice(0, 200)}` };
  }
  const type = typeof body.errorType === 'string' ? body.errorType : 'Unknown';
  const message = `${type}: ${typeof body.errorMessage === 'string' ? body.errorMessage : ''}`.trim();
  if (type === 'Sandbox.Timedout' || /Task timed out after/.test(message)) return { key: 'TIMEOUT', message };
  if (type === 'Runtime.ExitError' || type === 'Runtime.OutOfMemory') return { key: 'CRASH', message };
  if (type === 'Function.ResponseSizeTooLarge') return { key: 'PAYLOAD_TOO_LARGE', message };
  return { key: 'FUNCTION_ERROR', message };
}

/** Maps an SDK exception (or network failure) to our code. */
export function classifySdkError(err: unknown): PlatformErrorKey {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name ?? '';
  if (name === 'AbortError' || name === 'TimeoutError') return 'TIMEOUT';
  if (name === 'TooManyRequestsException' || status === 429) return 'THROTTLED';
  if (name === 'ResourceNotFoundException' || status === 404) return 'NOT_FOUND';
  if (name === 'RequestTooLargeException' || status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 401 || status === 403 || /Unrecognized|Signature|AccessDenied|Credentials/.test(name)) return 'AUTH';
  return 'UNAVAILABLE';
}
