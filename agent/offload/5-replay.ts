import fs from 'node:fs';
import type { Request, Response } from 'express';
import { ChannelErrors } from '../../protocol';
import type { Outcome } from '../../offload-worker';
import { applySession } from './2-session-snapshot';
import { makeCallbacks, type CallbackScope } from './5-callbacks';
import { WITH_CALLBACKS } from '../../protocol';

/** The response methods a worker's recording may call on the real response: nothing else. */
export const REPLAYABLE = [
  'status', 'set', 'header', 'setHeader', 'append', 'removeHeader', 'type', 'contentType', 'location', 'cookie', 'clearCookie', 'attachment',
  'vary', 'links', 'write', 'writeHead', 'flushHeaders', 'json', 'jsonp', 'send', 'end', 'sendStatus', 'redirect', 'render', 'sendFile', 'download',
];
const ALLOWED = new Set(REPLAYABLE);

/** Methods whose callbacks (or listeners) a worker leaves for the server: made here (agent/offload/5-callbacks.ts). */
const WITH_CALLBACK = new Set(['render', 'sendFile', 'download', 'on', 'once', 'prependListener', 'prependOnceListener']);
const LISTENERS = new Set(['on', 'once', 'prependListener', 'prependOnceListener']);

/**
 * The `next` of each offloaded request's handler: a callback the worker left may call it, as it
 * would locally (the agent binds it before the offload; see agent.ts).
 */
const nexts = new WeakMap<object, (...a: unknown[]) => unknown>();
export function bindNext(res: object, next: (...a: unknown[]) => unknown): void {
  nexts.set(res, next);
}

/** Replays a worker's recorded response on the real `res` (DESIGN.md §3 step 7). */
export function replayResponse(res: Response, calls: unknown, scope?: CallbackScope): void {
  if (!Array.isArray(calls)) throw ChannelErrors.MALFORMED('response calls must be a list');
  for (const c of calls) {
    if (!Array.isArray(c) || typeof c[0] !== 'string') throw ChannelErrors.MALFORMED('response call must be [name, ...args]');
    if (c[0] !== WITH_CALLBACKS) continue;
    const [, method, , event] = c as unknown[];
    if (typeof method !== 'string' || !WITH_CALLBACK.has(method)) throw ChannelErrors.MALFORMED(`response method '${String(method)}' takes no callback from a worker`);
    if (LISTENERS.has(method) && event !== 'finish' && event !== 'close') throw ChannelErrors.MALFORMED(`response event '${String(event)}' cannot be listened to from a worker`);
  }
  // Every callback is made before the first call replays: a malformed one leaves the response untouched.
  const made = (calls as unknown[][]).some((c) => c[0] === WITH_CALLBACKS)
    ? makeCallbacks(calls as unknown[][], scope ?? { req: (res as unknown as { req: object }).req, res }, WITH_CALLBACKS)
    : undefined;
  for (const c of calls as unknown[][]) {
    let [name, ...args] = c as [string, ...unknown[]];
    if (name === 'statusCode=') {
      res.statusCode = Number(args[0]);
      continue;
    }
    if (name === WITH_CALLBACKS) {
      const [method, at, ...rest] = args as [string, number[], ...unknown[]];
      for (const i of at) rest[i] = made!.get(rest[i]);
      name = method;
      args = rest;
    } else if (!ALLOWED.has(name)) throw ChannelErrors.MALFORMED(`response method '${name}' is not replayable`);
    else if (args.some((a) => typeof a === 'function')) throw ChannelErrors.MALFORMED(`response method '${name}' got a function`);
    (res as unknown as Record<string, (...a: unknown[]) => unknown>)[name](...args);
  }
}

/** Own properties the worker's handler set or deleted on `req` or `res`, applied to the real one. */
export function applyProps(target: object, changes: unknown): void {
  if (changes === undefined) return;
  const c = changes as { set?: unknown; del?: unknown };
  if (!c || !Array.isArray(c.set) || !Array.isArray(c.del)) throw ChannelErrors.MALFORMED('property changes must have set and del');
  const o = target as Record<string, unknown>;
  for (const entry of c.set as unknown[]) {
    const [k, v] = entry as [unknown, unknown];
    if (typeof k !== 'string' || k === '__proto__') throw ChannelErrors.MALFORMED('property key must be a string');
    // As the handler's own assignment would (a setter runs); a getter-only property of Express's
    // prototype is shadowed, as it was on the worker.
    if (!Reflect.set(o, k, v)) Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  }
  for (const k of c.del as unknown[]) {
    if (typeof k !== 'string') throw ChannelErrors.MALFORMED('property key must be a string');
    delete o[k];
  }
}

/** File writes the worker deferred, carried out here in order (see offload-worker/world.ts). */
export async function applyEffects(effects: unknown): Promise<void> {
  if (effects === undefined) return;
  if (!Array.isArray(effects)) throw ChannelErrors.MALFORMED('effects must be a list');
  for (const e of effects as unknown[]) {
    const [kind, file, data, opts] = e as [unknown, unknown, unknown, { mode?: number; flag?: string } | undefined];
    if ((kind !== 'writeFile' && kind !== 'appendFile') || typeof file !== 'string' || !(data instanceof Uint8Array)) throw ChannelErrors.MALFORMED('effect must be [writeFile|appendFile, path, bytes, options]');
    const o = { ...(typeof opts?.mode === 'number' ? { mode: opts.mode } : {}), ...(typeof opts?.flag === 'string' ? { flag: opts.flag } : {}) };
    if (kind === 'writeFile') await fs.promises.writeFile(file, data, o);
    else await fs.promises.appendFile(file, data, o);
  }
}

/**
 * Everything of a committed outcome the server carries out before the response is replayed, in
 * the order a local run would leave it visible to what follows (next(), the replayed `render`,
 * express-session's save at the end): deferred file writes, the handler's changes to `req` and
 * `res`, the session steps; then the response itself.
 */
export async function replayOutcome(req: Request, res: Response, outcome: Outcome): Promise<void> {
  await applyEffects(outcome.effects);
  applyProps(req, outcome.req);
  applyProps(res, outcome.res);
  if (outcome.session !== undefined) await applySession(req, outcome.session);
  replayResponse(res, outcome.calls, { req, res, next: nexts.get(res) });
}
