/** The worker runtime: rebuilds closures, fetches what is missing, records changes and responses. */
export { handleInvocation, currentInvocation, type ClosureRoot, type Outcome } from './runtime';
export { serveIpc } from './local-entry';
export { WorkerErrors } from './errors';
export type { Change, Op } from './closure-space';
export type { CodeRecord } from './code-record';
export type { ResCall, ReqSnapshot, ResInit } from './http-shims';
export { registerUnpacker, type Unpacker } from './unpackers';
export { unpackPg } from './pg-unpack';
export { WorldGuard, withWorld } from './world';
