/**
 * OpenWhisk activation records: how a run's outcome becomes `response.{status, success, result}`
 * (success / application error / action developer error / whisk internal error), with the
 * annotations, logs and timings the controller records.
 */
import type { PoolRun } from '../common/pool';

export type ActivationStatus = 'success' | 'application error' | 'action developer error' | 'whisk internal error';
const STATUS_CODE: Record<ActivationStatus, number> = { success: 0, 'application error': 1, 'action developer error': 2, 'whisk internal error': 3 };

export interface ActivationRecord {
  namespace: string;
  name: string;
  version: string;
  subject: string;
  activationId: string;
  start: number;
  end: number;
  duration: number;
  statusCode: number;
  response: { status: ActivationStatus; statusCode: number; success: boolean; result: Record<string, unknown>; size: number };
  logs: string[];
  annotations: Array<{ key: string; value: unknown }>;
  publish: boolean;
}

export interface ActionLimits {
  memoryMB: number;
  timeoutMs: number;
  concurrency: number;
  maxResultBytes: number;
}

/** The response part of an activation, from what the instance did. */
export function responseOf(run: Exclude<PoolRun, { throttled: true }>, limits: ActionLimits): { status: ActivationStatus; result: Record<string, unknown>; timedOut: boolean } {
  const dev = (error: string) => ({ status: 'action developer error' as const, result: { error }, timedOut: false });
  if (run.initError) return dev(`Initialization has failed due to: ${run.initError.errorType}: ${run.initError.errorMessage}`);
  const o = run.outcome;
  switch (o.kind) {
    case 'timeout':
      return { ...dev(`The action exceeded its time limits of ${limits.timeoutMs} milliseconds.`), timedOut: true };
    case 'exit':
      return dev('The action did not produce a valid response and exited unexpectedly.');
    case 'error':
      return dev(`An error has occurred: ${o.errorType}: ${o.errorMessage}`);
    case 'ok': {
      const size = Buffer.byteLength(o.body);
      if (size > limits.maxResultBytes) return dev(`The action produced a response that exceeded the allowed length: ${size} > ${limits.maxResultBytes} bytes.`);
      const value: unknown = JSON.parse(o.body);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return dev('The action did not return a dictionary.');
      const result = value as Record<string, unknown>;
      // An `error` property marks an application error: the action ran fine and said no.
      return { status: 'error' in result ? 'application error' : 'success', result, timedOut: false };
    }
  }
}

export function buildActivation(args: {
  namespace: string;
  action: string;
  activationId: string;
  start: number;
  run: Exclude<PoolRun, { throttled: true }>;
  limits: ActionLimits;
  waitMs: number;
}): ActivationRecord {
  const { run, limits } = args;
  const { status, result, timedOut } = responseOf(run, limits);
  const duration = Math.round(run.initError ? run.initMs : run.durationMs + (run.cold ? run.initMs : 0));
  const logs = run.initError ? [] : formatLogs(run.logs);
  const annotations: ActivationRecord['annotations'] = [
    { key: 'path', value: `${args.namespace}/${args.action}` },
    { key: 'waitTime', value: Math.round(args.waitMs) },
    { key: 'kind', value: 'nodejs:20' },
    { key: 'timeout', value: timedOut },
    { key: 'limits', value: { concurrency: 1, logs: 10, memory: limits.memoryMB, timeout: limits.timeoutMs } },
  ];
  if (run.cold) annotations.push({ key: 'initTime', value: Math.round(run.initMs) });
  return {
    namespace: args.namespace,
    name: args.action,
    version: '0.0.1',
    subject: args.namespace,
    activationId: args.activationId,
    start: args.start,
    end: args.start + duration,
    duration,
    statusCode: STATUS_CODE[status],
    response: { status, statusCode: STATUS_CODE[status], success: status === 'success', result, size: Buffer.byteLength(JSON.stringify(result)) },
    logs,
    annotations,
    publish: false,
  };
}

/** `2024-01-01T00:00:00.000Z stdout: line`, as `wsk activation logs` shows them. */
function formatLogs(chunks: string[]): string[] {
  const now = new Date().toISOString();
  return chunks
    .join('')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `${now} stdout: ${l}`);
}

/** HTTP status of a blocking invoke's answer, by activation status (as the controller answers). */
export function httpStatusOf(status: ActivationStatus): number {
  if (status === 'success') return 200;
  if (status === 'whisk internal error') return 500;
  return 502;
}
