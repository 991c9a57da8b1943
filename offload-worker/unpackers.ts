import { WorkerErrors } from './errors';

/**
 * Packageables (DESIGN.md §4): objects with native state that a class turns into a record with
 * `[Symbol.for('beehive.pack')]()`, unpacked here by a registered unpacker.
 */
export type Unpacker = (record: unknown) => unknown;

const unpackers = new Map<string, Unpacker>();

export function registerUnpacker(name: string, fn: Unpacker): void {
  if (typeof name !== 'string' || !name) throw new TypeError('unpacker name must be a non-empty string');
  if (typeof fn !== 'function') throw new TypeError('unpacker must be a function');
  unpackers.set(name, fn);
}

export function unpack(data: { unpacker: string; record: unknown }): unknown {
  const fn = data && typeof data.unpacker === 'string' ? unpackers.get(data.unpacker) : undefined;
  if (!fn) throw WorkerErrors.UNSUPPORTED(`no unpacker '${String(data?.unpacker)}' registered on the worker`);
  return fn(data.record);
}
