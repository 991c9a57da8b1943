/**
 * Protocol-level named prepared statements under transaction pooling: a client's statement may be
 * needed on any backend. The client's name maps to a server-side name derived from the text and
 * parameter types, so clients running the same statement share one server-side statement; a
 * backend that lacks it gets a Parse injected just before use (as PgBouncer >= 1.21 does).
 */
import { createHash } from 'node:crypto';

export interface StatementDef {
  server: string;
  /** The query's bytes as the client sent them (its client_encoding): a re-prepare sends exactly these. */
  query: Buffer;
  types: Buffer;
  /** `server` as UTF-8 with its NUL, as it goes into a Bind. */
  serverBytes: Buffer;
  /** The client's name for it (bytes as sent): a server error naming `server` is shown with this name. */
  clientName: Buffer;
}

const kNames = new Map<string, string>();

/** `bh_` + 24 hex chars of SHA-1 over types and the text's bytes; memoised for hot statements. */
export function serverName(query: Buffer, types: Buffer): string {
  // latin1 maps bytes one to one: texts in any client encoding get distinct keys.
  const text = query.toString('latin1');
  const key = types.length > 2 ? types.toString('latin1') + '\0' + text : text;
  let name = kNames.get(key);
  if (!name) {
    name = 'bh_' + createHash('sha1').update(key, 'latin1').digest('hex').slice(0, 24);
    if (kNames.size > 10_000) kNames.clear();
    kNames.set(key, name);
  }
  return name;
}

export class ClientStatements {
  private readonly map = new Map<string, StatementDef>();
  /** The last name looked up by its bytes (a client usually binds the same statement again). */
  private lastName: Buffer | null = null;
  private lastDef: StatementDef | undefined;

  /** A statement definition (not yet under any name). */
  make(name: string, query: Buffer, types: Buffer): StatementDef {
    const server = serverName(query, types);
    return { server, query: Buffer.from(query), types: Buffer.from(types), serverBytes: Buffer.from(server + '\0', 'utf8'), clientName: Buffer.from(name, 'latin1') };
  }

  define(name: string, query: Buffer, types: Buffer): StatementDef {
    const def = this.make(name, query, types);
    this.set(name, def);
    return def;
  }

  /**
   * Defines `name` (or removes it, with undefined) ahead of the server's answer, and returns what
   * undoes it: the server skips the Parse or Close when an earlier message of the pipeline failed,
   * and then the name must be as it was (the undos run in reverse order).
   */
  set(name: string, def: StatementDef | undefined): () => void {
    const prev = this.map.get(name);
    if (def) this.map.set(name, def);
    else this.map.delete(name);
    this.lastName = null;
    return () => {
      if (this.map.get(name) !== def) return;
      if (prev) this.map.set(name, prev);
      else this.map.delete(name);
      this.lastName = null;
    };
  }

  /** DEALLOCATE ALL / DISCARD ALL: the server dropped every statement of the session. */
  clear(): void {
    this.map.clear();
    this.lastName = null;
  }

  get(name: string): StatementDef | undefined {
    return this.map.get(name);
  }

  /** The statement named by `buf[from, to)` (UTF-8, no NUL), without decoding it when it is the last one used. */
  getBytes(buf: Buffer, from: number, to: number): StatementDef | undefined {
    const last = this.lastName;
    if (last !== null && last.length === to - from && buf.compare(last, 0, last.length, from, to) === 0) return this.lastDef;
    const def = this.map.get(buf.toString('latin1', from, to));
    this.lastName = Buffer.from(buf.subarray(from, to));
    this.lastDef = def;
    return def;
  }

  /** Forgets `name` if it still maps to `server` (a later Parse may have replaced it). */
  forget(name: string, server?: string): void {
    const d = this.map.get(name);
    if (d && (server === undefined || d.server === server)) this.map.delete(name);
    this.lastName = null;
  }

  get size(): number {
    return this.map.size;
  }
}
