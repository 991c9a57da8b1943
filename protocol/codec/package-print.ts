/**
 * A fingerprint of a package file's state as its exports show it: the objects reachable through own
 * properties a few levels deep, with their keys, primitive values, the source of their functions
 * and the sharing between them, hashed. The server computes it for a package it configured; a
 * worker computes it for its own copy after replaying the configuration, and refuses to run with a
 * copy that does not match (DESIGN.md §4a). Identity of objects cannot be compared across
 * processes; structure, values and code can.
 */
export const PRINT_DEPTH = 2;
const MAX_OBJECTS = 2_000;

export interface PrintOptions {
  /** Maps a stand-in the server installed around a package function to the function itself. */
  unwrap?: (f: Function) => Function;
  /** Own properties that are the server's own stand-ins, not the package's state. */
  skip?: (o: object, key: string | symbol) => boolean;
  /** Receives the described objects, one line each, before hashing (to find where two prints differ). */
  trace?: string[];
}

export function packagePrint(root: unknown, opts: PrintOptions = {}): string {
  const unwrap = opts.unwrap ?? ((f: Function) => f);
  const skip = opts.skip ?? (() => false);
  const ids = new Map<object, number>();
  const lines: string[] = [];
  let level: unknown[] = [root];
  const idOf = (o: object, next: unknown[]): number => {
    let id = ids.get(o);
    if (id === undefined) {
      id = ids.size;
      ids.set(o, id);
      if (ids.size <= MAX_OBJECTS) next.push(o);
    }
    return id;
  };
  const val = (v: unknown, next: unknown[]): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'object':
        return `#${idOf(v, next)}`;
      case 'function':
        // A stand-in is its function, for sharing too (`x.use` and the module's `use` are one function).
        return `#${idOf(unwrap(v), next)}`;
      case 'string':
        return JSON.stringify(v);
      case 'symbol':
        return `sym(${v.description ?? ''})`;
      case 'bigint':
        return `${v}n`;
      default:
        return String(v);
    }
  };
  idOf(root as object, []);
  for (let depth = 0; depth <= PRINT_DEPTH && level.length; depth++) {
    const next: unknown[] = [];
    for (const o of level) {
      if (o === null || (typeof o !== 'object' && typeof o !== 'function')) continue;
      lines.push(describe(o as object, unwrap, skip, depth < PRINT_DEPTH ? (v) => val(v, next) : (v) => (v !== null && (typeof v === 'object' || typeof v === 'function') ? typeof v : val(v, next))));
    }
    level = next;
  }
  opts.trace?.push(...lines);
  return hash(lines.join('\n'));
}

function describe(o: object, unwrap: (f: Function) => Function, skip: (o: object, k: string | symbol) => boolean, val: (v: unknown) => string): string {
  let head: string;
  if (typeof o === 'function') {
    let src: string;
    try {
      src = Function.prototype.toString.call(unwrap(o));
    } catch {
      src = '?';
    }
    head = `f${hash(src)}`;
  } else {
    let proto: unknown;
    try {
      proto = Object.getPrototypeOf(o);
    } catch {
      proto = undefined;
    }
    const ctor = proto && typeof proto === 'object' ? (Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as { name?: unknown } | undefined) : undefined;
    head = `${Array.isArray(o) ? 'a' : 'o'}:${proto === null ? 'null' : typeof ctor?.name === 'string' ? ctor.name : '?'}`;
  }
  let keys: Array<string | symbol>;
  try {
    keys = Reflect.ownKeys(o);
  } catch {
    return `${head}{?}`;
  }
  const parts: string[] = [];
  for (const k of keys) {
    if ((typeof o === 'function' && (k === 'caller' || k === 'arguments')) || skip(o, k)) continue;
    // An error's stack names the files and the loader's frames of the process that made it.
    if (k === 'stack' && o instanceof Error) continue;
    let d: PropertyDescriptor | undefined;
    try {
      d = Object.getOwnPropertyDescriptor(o, k);
    } catch {
      continue;
    }
    if (!d) continue;
    const key = typeof k === 'symbol' ? `[${k.description ?? ''}]` : JSON.stringify(k);
    parts.push('value' in d ? `${key}=${val(d.value)}` : `${key}:get=${val(d.get)}:set=${val(d.set)}`);
  }
  return `${head}{${parts.join(',')}}`;
}

/** cyrb53: a fast 53-bit string hash, as 14 hex digits. */
function hash(s: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}
