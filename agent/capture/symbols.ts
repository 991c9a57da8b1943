/**
 * Symbols that are neither registered (`Symbol.for`) nor well-known travel by an identity the server
 * gives them, so that a worker's copy of `obj[kSecret]` is keyed by a symbol that maps back to the
 * same one. Symbols cannot be WeakMap keys on every supported Node, and an app has few of them.
 */
const ids = new Map<symbol, number>();
const byId: symbol[] = [];

export function symbolId(s: symbol): number {
  let id = ids.get(s);
  if (id === undefined) {
    id = byId.push(s) - 1;
    ids.set(s, id);
  }
  return id;
}

/** The server's symbol behind an id it gave out, or undefined. */
export function symbolById(id: number): symbol | undefined {
  return Number.isSafeInteger(id) && id >= 0 ? byId[id] : undefined;
}
