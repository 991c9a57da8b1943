/**
 * What the Lambda Invoke API puts on the wire: error answers (status, x-amzn-ErrorType, body the
 * SDK's restJson1 deserializer understands), the Unhandled function-error bodies, and the log tail
 * with its START/END/REPORT lines.
 */
import type http from 'node:http';
import { sendJson } from '../common/http';
import { exitText, type RunOutcome } from '../common/instance';

/** Lambda's synchronous invoke payload limit, request and response. */
export const MAX_SYNC_PAYLOAD = 6 * 1024 * 1024;
/** X-Amz-Log-Result carries the last 4 KB of the invocation's log. */
const LOG_TAIL_BYTES = 4096;

export function sendApiError(res: http.ServerResponse, requestId: string, status: number, type: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  sendJson(res, status, { Type: 'User', message, ...extra }, { 'x-amzn-errortype': type, 'x-amzn-requestid': requestId, ...headers });
}

export interface FunctionErrorBody {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/** The Unhandled error body for an invocation that produced no normal result. */
export function functionError(requestId: string, outcome: Exclude<RunOutcome, { kind: 'ok' }>, timeoutS: number): FunctionErrorBody {
  switch (outcome.kind) {
    case 'timeout':
      return { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutS.toFixed(2)} seconds` };
    case 'exit':
      return { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${exitText(outcome.code, outcome.signal)}` };
    case 'error':
      return { errorType: outcome.errorType, errorMessage: outcome.errorMessage, trace: outcome.trace };
  }
}

export interface Report {
  function: string;
  requestId: string;
  version: string;
  durationMs: number;
  billedMs: number;
  memoryMB: number;
  maxMemoryUsedMB: number;
  initMs?: number;
  /** 'ok', or the error type the caller saw. */
  status: string;
}

export function reportLine(r: Report): string {
  const init = r.initMs !== undefined ? `\tInit Duration: ${r.initMs.toFixed(2)} ms` : '';
  return `REPORT RequestId: ${r.requestId}\tDuration: ${r.durationMs.toFixed(2)} ms\tBilled Duration: ${r.billedMs} ms\tMemory Size: ${r.memoryMB} MB\tMax Memory Used: ${r.maxMemoryUsedMB} MB${init}\t`;
}

/** The whole invocation log as CloudWatch would hold it. */
export function invocationLog(r: Report, logs: string[], extra?: string): string {
  const body = logs.join('');
  return [
    `START RequestId: ${r.requestId} Version: ${r.version}\n`,
    body && !body.endsWith('\n') ? body + '\n' : body,
    extra ? `${new Date().toISOString()} ${r.requestId} ${extra}\n` : '',
    `END RequestId: ${r.requestId}\n`,
    reportLine(r) + '\n',
  ].join('');
}

/** base64 of the log's last 4 KB, as in X-Amz-Log-Result. */
export function logTail(log: string): string {
  const buf = Buffer.from(log, 'utf8');
  return buf.subarray(Math.max(0, buf.length - LOG_TAIL_BYTES)).toString('base64');
}
