import { WorkerErrors } from './errors';
import { unpackPg } from './pg-unpack';

/**
 * Packageables (DESIGN.md §4): objects with native state that a class turns into a record with
 * `[Symbol.for('beehive.pack')]()`, unpacked here by a registered unpacker.
 */
export type Unpacker = (record: unknown) => unknown;

const unpackers = new Map<string, Unpacker>();

export function registerUnpacker(name: string, fn: Unpacker): void {
  if (typeof name !== 'string' || !name) throw WorkerErrors.UNPACKER('the name must be a non-empty string');
  if (typeof fn !== 'function') throw WorkerErrors.UNPACKER('the unpacker must be a function');
  unpackers.set(name, fn);
}

/**
 * Built in: pg's Client and Pool, connected through the BeeHive proxy (a hand-off of the server's
 * session, or a pool grant). pg itself comes from the app's dependencies.
 */
function builtin(name: string, requirePg: () => unknown): Unpacker | undefined {
  if (name !== 'pg.Client' && name !== 'pg.Pool') return undefined;
  return (record) => unpackPg(record, { pg: requirePg() });
}

/** Unpacks a record; `onOpen` learns of connections to close when the invocation ends. */
export function unpack(data: { unpacker: string; record?: unknown }, requirePg: () => unknown, onOpen: (closer: () => Promise<unknown>) => void): unknown {
  const name = data && typeof data.unpacker === 'string' ? data.unpacker : '';
  const fn = unpackers.get(name) ?? builtin(name, requirePg);
  if (!fn) throw WorkerErrors.UNSUPPORTED(`no unpacker '${name}' registered on the worker`);
  // pg records are the record itself; user packs wrap theirs in { unpacker, record }.
  const v = fn(name.startsWith('pg.') ? data : data.record);
  const end = (v as { end?: () => Promise<unknown> } | null)?.end;
  if (name.startsWith('pg.') && typeof end === 'function') onOpen(() => end.call(v));
  return v;
}
