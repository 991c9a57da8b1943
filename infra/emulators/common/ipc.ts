/**
 * Messages between an emulator and one function instance process (its "runtime interface client").
 * The instance serves one invocation at a time, as on both platforms.
 */
export type RuntimeMode = 'lambda' | 'openwhisk';

/** Emulator → instance. */
export interface InvokeMessage {
  t: 'invoke';
  id: string;
  /** The request body, a JSON text checked by the emulator. */
  payload: string;
  /** Epoch ms at which the platform kills the invocation. */
  deadline: number;
  /** Per-invocation environment (OpenWhisk's __OW_* variables, Lambda's trace id). */
  env: Record<string, string>;
  /** Lambda context fields. */
  context?: { functionName: string; functionVersion: string; invokedFunctionArn: string; memoryLimitInMB: string; logGroupName: string; logStreamName: string };
}

/** Instance → emulator. */
export type InstanceMessage =
  | { t: 'ready' }
  | { t: 'init-error'; errorType: string; errorMessage: string; trace: string[] }
  | { t: 'log'; s: 'stdout' | 'stderr'; d: string }
  | { t: 'result'; id: string; ok: true; body: string; maxRssKB: number }
  | { t: 'result'; id: string; ok: false; errorType: string; errorMessage: string; trace: string[]; maxRssKB: number; fatal?: boolean };

/** How an error travels: the shape Lambda uses in its Unhandled error body. */
export function describeError(err: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  if (err instanceof Error) {
    return { errorType: err.name || 'Error', errorMessage: err.message, trace: (err.stack ?? '').split('\n') };
  }
  return { errorType: typeof err === 'string' ? 'string' : 'Error', errorMessage: String(err), trace: [] };
}
