import { defineErrors } from '../protocol';

export const WorkerErrors = defineErrors('WORKER', {
  BAD_EVENT: ['BEEHIVE_ERR_WORKER_BAD_EVENT', 'malformed invocation event'],
  REBUILD: ['BEEHIVE_ERR_WORKER_REBUILD', 'cannot rebuild function'],
  REMOTE_FETCH: ['BEEHIVE_ERR_WORKER_REMOTE_FETCH', 'remote object fetch failed'],
  MODULE: ['BEEHIVE_ERR_WORKER_MODULE', 'module cannot be loaded on the worker'],
  NEW_FUNCTION: ['BEEHIVE_ERR_WORKER_NEW_FUNCTION', 'a function created on the worker cannot be written to server state'],
  TIMEOUT: ['BEEHIVE_ERR_WORKER_TIMEOUT', 'handler did not complete'],
  BUSY: ['BEEHIVE_ERR_WORKER_BUSY', 'worker is already running an invocation'],
  UNSUPPORTED: ['BEEHIVE_ERR_WORKER_UNSUPPORTED', 'operation not supported in an offloaded handler'],
  REFUSED: ['BEEHIVE_ERR_WORKER_REFUSED', 'the handler does something a worker cannot do faithfully; it runs on the server'],
  INSPECTOR: ['BEEHIVE_ERR_WORKER_INSPECTOR', 'the inspector did not answer synchronously'],
  NO_IPC: ['BEEHIVE_ERR_WORKER_NO_IPC', 'no IPC channel (start the worker from the agent, or use --listen)'],
  UNPACKER: ['BEEHIVE_ERR_WORKER_UNPACKER', 'invalid unpacker registration', TypeError],
  CODE_RECORD: ['BEEHIVE_ERR_WORKER_CODE_RECORD', 'malformed code record'],
  PACKAGE_STEP: ['BEEHIVE_ERR_WORKER_PACKAGE_STEP', 'a package configuration step cannot be replayed'],
  STALE: ['BEEHIVE_ERR_WORKER_STALE', 'server state the handler read changed before it finished'],
});
