import type { Op } from '../protocol';
import { registerRemote } from './remote-ref';

/**
 * Stand-ins for what cannot be copied and stays on the server (docs/values.md): a WeakMap or
 * WeakSet, whose entries cannot be listed, and a pending promise. A weak collection's reads are
 * answered by the server, one entry at a time (MsgType.WeakGet), and checked there at the commit
 * point like any read; its writes are kept here (the handler reads its own) and sent with the dirty
 * set, applied at the commit — never before, so an invocation that runs again has changed nothing.
 */
export interface WeakSource {
  /** The server identity of a key, or undefined for an object made on the worker. */
  keyId(k: object): number | undefined;
  /** The server's entry for the key. */
  entry(id: number, keyId: number): { has: boolean; value: unknown };
  /** Throws for a key whose server counterpart a write would miss (the worker's own req and res). */
  checkKey(k: object): void;
  /** Registers the collection's writes with the invocation's dirty set. */
  track(id: number, delta: { ops(): Op[]; sent(): void }): void;
  /** The invocation is refused (runs on the server) even if the handler catches the error. */
  refuse(reason: string): Error;
}

const isKey = (k: unknown): k is object => (typeof k === 'object' && k !== null) || typeof k === 'function';

/** The part both stand-ins share: the server's answers, the handler's own writes, the log of them. */
class Entries {
  private readonly seen = new WeakMap<object, { has: boolean; value: unknown }>();
  readonly local = new WeakMap<object, unknown>();
  readonly deleted = new WeakSet<object>();
  ops: Op[] = [];

  constructor(private readonly id: number, private readonly src: WeakSource, private readonly kind: string) {
    src.track(id, { ops: () => this.ops, sent: () => (this.ops = []) });
  }

  read(k: unknown): { has: boolean; value: unknown } {
    // A symbol key could be one of the server's (its symbols travel): never answered "absent" here.
    if (typeof k === 'symbol') throw this.src.refuse(`a ${this.kind} read with a symbol key: the server's entries for its symbols cannot be told apart here`);
    if (!isKey(k)) return { has: false, value: undefined };
    if (this.local.has(k)) return { has: true, value: this.local.get(k) };
    if (this.deleted.has(k)) return { has: false, value: undefined };
    let r = this.seen.get(k);
    if (r) return r;
    const keyId = this.src.keyId(k);
    // An object without a server identity may still have a counterpart there (a package's export
    // the worker loaded itself): "absent" would be a guess, so the invocation runs on the server.
    if (keyId === undefined) throw this.src.refuse(`a ${this.kind} read with a key the server did not send (made or loaded on the worker): whether the server's ${this.kind} holds it cannot be told here`);
    r = this.src.entry(this.id, keyId);
    this.seen.set(k, r);
    return r;
  }

  write(k: object, value: unknown): void {
    this.src.checkKey(k);
    this.local.set(k, value);
    this.deleted.delete(k);
    this.ops.push(['wset', k, value]);
  }

  remove(k: unknown): boolean {
    if (!isKey(k) && typeof k !== 'symbol') return false;
    const had = this.read(k).has;
    if (!had) return false;
    this.src.checkKey(k as object);
    this.local.delete(k as object);
    this.deleted.add(k as object);
    this.ops.push(['wdel', k as object]);
    return true;
  }
}

export class RemoteWeakMap extends WeakMap<object, unknown> {
  readonly #e: Entries;
  constructor(id: number, src: WeakSource) {
    super();
    this.#e = new Entries(id, src, 'WeakMap');
  }
  get(k: object): unknown {
    return this.#e.read(k).value;
  }
  has(k: object): boolean {
    return this.#e.read(k).has;
  }
  set(k: object, v: unknown): this {
    if (!isKey(k)) super.set(k, v); // the built-in's own TypeError
    this.#e.write(k, v);
    return this;
  }
  delete(k: object): boolean {
    return this.#e.remove(k);
  }
}

export class RemoteWeakSet extends WeakSet<object> {
  readonly #e: Entries;
  constructor(id: number, src: WeakSource) {
    super();
    this.#e = new Entries(id, src, 'WeakSet');
  }
  has(k: object): boolean {
    return this.#e.read(k).has;
  }
  add(k: object): this {
    if (!isKey(k)) super.add(k); // the built-in's own TypeError
    this.#e.write(k, undefined);
    return this;
  }
  delete(k: object): boolean {
    return this.#e.remove(k);
  }
}

export function makeRemoteWeak(id: number, kind: 'weakmap' | 'weakset', src: WeakSource): object {
  const w = kind === 'weakmap' ? new RemoteWeakMap(id, src) : new RemoteWeakSet(id, src);
  registerRemote(w, id, kind);
  return w;
}

/**
 * A promise the server holds pending: settled here as it settles there (MsgType.Await, asked at
 * once). A failure of the channel fails the invocation (the handler's rejection is then never
 * committed); an unawaited one is not an unhandled rejection here.
 */
export function makeRemotePromise(id: number, settle: (id: number) => Promise<{ ok: boolean; v: unknown }>): Promise<unknown> {
  const p = new Promise<unknown>((resolve, reject) => {
    settle(id).then((r) => (r.ok ? resolve(r.v) : reject(r.v)), reject);
  });
  p.catch(() => {});
  registerRemote(p, id, 'promise');
  return p;
}
