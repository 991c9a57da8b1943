/**
 * What a backend still owes a client, in order. Each request that gets a response (Parse, Bind,
 * Describe, Execute, Close, Sync, Query) has an entry; the proxy adds entries of its own: a
 * response it makes up (ParseComplete for a statement the backend already has) or one it hides
 * (a re-prepare it injected, its own internal queries). Matching responses to entries is what lets
 * the proxy rewrite a pipelined stream without breaking its order.
 */
import type { StatementDef } from './statements';

export const enum Expect {
  Query, // 'Q' or 'F': responses up to ReadyForQuery
  Parse, // ParseComplete
  Bind, // BindComplete
  Close, // CloseComplete
  Describe, // [ParameterDescription] RowDescription | NoData
  Execute, // CommandComplete | EmptyQueryResponse | PortalSuspended (or an error)
  Sync, // ReadyForQuery
}

export const enum Flag {
  None = 0,
  /** Answered by the proxy with `synth`, never sent to the backend. */
  Synth = 1,
  /** Sent by the proxy; the backend's responses are hidden from the client (errors of a re-prepare excepted). */
  Swallow = 2,
}

export interface Entry {
  kind: Expect;
  flags: number;
  synth?: Buffer;
  /** Parse: server-side statement name, recorded on the backend once ParseComplete arrives. */
  server?: string;
  /** Parse: the client's own statement name, forgotten if the Parse fails. */
  client?: string;
  /** Internal query: called at its ReadyForQuery with the first error message, if any. */
  done?: (error: string | null, status: number) => void;
  error?: string;
  /** Undoes the client-side statement-name change of this Parse or Close when the server skips it. */
  undo?: () => void;
  /** The client's statement this Bind, Describe or re-prepare uses: an error naming its server-side name shows the client's. */
  def?: StatementDef;
  /** Deferred-commit hand-off: command tags to show instead of the server's, in order (null: keep). */
  tags?: Array<string | null>;
}

export class ResponseQueue {
  private items: Entry[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(e: Entry): void {
    this.items.push(e);
  }

  peek(): Entry | undefined {
    return this.items[this.head];
  }

  shift(): Entry | undefined {
    const e = this.items[this.head];
    if (e === undefined) return undefined;
    this.items[this.head++] = undefined as unknown as Entry;
    if (this.head === this.items.length) {
      this.items = []; // cheaper than truncating (a runtime call)
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return e;
  }

  /** After an error the backend skips everything up to the next Sync: drop those entries. */
  dropUntilSync(onDropped: (e: Entry) => void): void {
    // The server ignores everything but Sync in that state, Query messages included.
    for (let e = this.peek(); e && e.kind !== Expect.Sync; e = this.peek()) {
      this.shift();
      onDropped(e);
    }
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
