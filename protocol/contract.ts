/**
 * The agent–worker contract beyond the codec: what a worker sends back. A worker's dirty set is a
 * list of changes, one per server object (by its id), each a list of operations that name the value
 * the worker saw before its write, so that the server can validate before it applies (agent/offload/4-apply).
 */
export type Op =
  | ['set', string | symbol, unknown, unknown, boolean]
  | ['del', string | symbol, unknown]
  | ['len', number, number]
  | ['mset', unknown, unknown, unknown, boolean]
  | ['mdel', unknown, unknown]
  | ['sadd', unknown]
  | ['sdel', unknown]
  | ['time', number, number]
  | ['bytes', Uint8Array, Uint8Array]
  | ['mre', unknown, unknown, unknown]
  | ['sre', unknown]
  | ['href', string, string]
  | ['query', string, string]
  /** An LRUCache's entries after, and as the worker saw them before (protocol/codec/lru.ts). */
  | ['lru', unknown[], unknown[]]
  /** A WeakMap's entry set, or a WeakSet's value added (value undefined), for the key object. */
  | ['wset', object, unknown]
  /** A WeakMap's or WeakSet's entry deleted. */
  | ['wdel', object]
  /** A call on an LRUCache left on the server, and what it returned on the worker (replayed at the commit). */
  | ['lcall', 'get' | 'peek' | 'has' | 'set' | 'delete', unknown[], unknown];

/** The operations on one server object. */
export interface Change {
  id: number;
  ops: Op[];
}


/** What an invocation returns to the server, encoded with the closure codec. */
export interface Outcome {
  /** The response calls recorded on the worker's `res`, replayed on the real one. */
  calls: unknown[];
  statusCode: number;
  /** next() was called: [] for next(), [err] for next(err). */
  next?: unknown[];
  /** `call` style: the returned value. */
  value?: unknown;
  /** The handler threw (or its promise rejected) and nothing else ended the request. */
  thrown?: unknown;
  /** `call` style (Nest): Logger calls made on the worker, replayed on the server's Logger. */
  logs?: unknown[];
  changes: unknown[];
  /**
   * What the handler read of each remote object it loaded (by server id): its keys, or null for all
   * of it. The server validates a hot object fetched under its lock by these keys only.
   */
  reads?: Array<[number, Array<string | symbol> | null]>;
  /** Own properties of `req` the handler set or deleted (url, body, user...): applied before the replay. */
  req?: PropChanges;
  /** Own properties of `res` the handler set or deleted (locals, helpers). */
  res?: PropChanges;
  /** What the handler did to the session, in order (offload-worker/session-shims.ts). */
  session?: unknown[];
  /** File writes deferred to the server's commit point, in order (offload-worker/world.ts). */
  effects?: unknown[];
}

/** Own properties set (by identity) or deleted. */
export interface PropChanges {
  set: Array<[string, unknown]>;
  del: string[];
}

/**
 * A recorded response call whose function arguments are callbacks the server makes again from its own
 * code: `[WITH_CALLBACKS, method, [argument indexes], ...args]` (offload-worker/callbacks.ts, agent/offload/5-replay.ts).
 */
export const WITH_CALLBACKS = 'withCallbacks';
