import { defineErrors } from '../protocol';

export const WorkerErrors = defineErrors('WORKER', {
  BAD_EVENT: 'malformed invocation event',
  REBUILD: 'cannot rebuild function',
  REMOTE_FETCH: 'remote object fetch failed',
  MODULE: 'module cannot be loaded on the worker',
  NEW_FUNCTION: 'a function created on the worker cannot be written to server state',
  TIMEOUT: 'handler did not complete',
  BUSY: 'worker is already running an invocation',
  UNSUPPORTED: 'operation not supported in an offloaded handler',
  REFUSED: 'the handler does something a worker cannot do faithfully; it runs on the server',
});
