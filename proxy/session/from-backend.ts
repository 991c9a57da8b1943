/**
 * Backend → client: matches each backend message against the response queue. Answers to the
 * client's own requests pass as raw byte ranges; answers to the proxy's requests (re-prepares,
 * internal queries) are hidden; answers the proxy made up go out in their place in the order; shadow
 * and deferred sessions get the transaction status and command tags their client expects.
 */
import type { ClientSession } from './client-session';
import { BackendCode, TxStatus } from '../wire/codes';
import type { ReaderHandler } from '../wire/reader';
import * as be from '../wire/backend-messages';
import { debug } from '../debug';
import { Expect, Flag, type Entry } from './response-queue';
import { kDrop } from './defer';
import type { StatementDef } from './statements';

/** The reader handler of a session's backend bytes. */
export function backendHandler(s: ClientSession): ReaderHandler {
  return {
    message: (code, buf, start, end) => fromBackend(s, code, buf, start, end),
    fragment: (_code, buf, start, end) => {
      const head = s.queue.peek();
      if (!(head && head.flags & Flag.Swallow)) pass(s, buf, start, end);
    },
  };
}

export function pass(s: ClientSession, buf: Buffer, start: number, end: number): void {
  if (!s.gone) s.toClient.push(buf, start, end);
}

function fromBackend(s: ClientSession, code: number, buf: Buffer, start: number, end: number): void {
  const q = s.queue;
  const head = q.peek();
  const swallow = head !== undefined && (head.flags & Flag.Swallow) !== 0;
  switch (code) {
    case BackendCode.ReadyForQuery: {
      const status = buf[start + 5];
      s.backend!.txStatus = status;
      let e = q.shift();
      // (No array on the common path: a ReadyForQuery usually ends exactly its own entry.)
      let unanswered: Entry[] | null = null;
      while (e && e.kind !== Expect.Sync && e.kind !== Expect.Query) {
        (unanswered ??= []).push(e);
        e = q.shift();
      }
      if (unanswered) droppedAll(s, unanswered);
      if (s.handoff && status === TxStatus.Idle) s.handoff.sawIdle = true;
      if (e && e.flags & Flag.Swallow) e.done?.(e.error ?? null, status);
      else if (s.shadow) toClientStatus(s, status);
      else pass(s, buf, start, end);
      drainSynth(s);
      return;
    }
    case BackendCode.ParseComplete:
    case BackendCode.BindComplete:
    case BackendCode.CloseComplete:
    case BackendCode.NoData:
      q.shift();
      if (!swallow) pass(s, buf, start, end);
      drainSynth(s);
      return;
    case BackendCode.RowDescription:
      if (head?.kind === Expect.Describe) q.shift();
      if (!swallow) pass(s, buf, start, end);
      drainSynth(s);
      return;
    case BackendCode.CommandComplete:
      if (head?.tags && (head.kind === Expect.Query || head.kind === Expect.Execute)) {
        if (head.kind === Expect.Execute) q.shift();
        const tag = head.tags.shift();
        if (tag === kDrop) return;
        if (!swallow && tag) {
          if (!s.gone) s.toClient.pushOwned(be.commandComplete(tag));
        } else if (!swallow) pass(s, buf, start, end);
        drainSynth(s);
        return;
      }
      if (head?.kind === Expect.Execute) q.shift();
      if (buf[start + 5] === 0x44 /* 'D' */) droppedStatements(s, buf, start, end);
      if (!swallow) pass(s, buf, start, end);
      drainSynth(s);
      return;
    case BackendCode.EmptyQueryResponse:
    case BackendCode.PortalSuspended:
      if (head?.kind === Expect.Execute) q.shift();
      if (!swallow) pass(s, buf, start, end);
      drainSynth(s);
      return;
    case BackendCode.ErrorResponse: {
      s.copyIn = false;
      if (head && (head.kind === Expect.Query || head.kind === Expect.Sync)) {
        if (swallow) {
          head.error ??= be.decodeFields(buf, start, end).M ?? 'error';
          debug('client %d internal query failed: %s', s.processId, head.error);
        } else passError(s, buf, start, end);
        return;
      }
      // A failed re-prepare is the client's error too: its Bind will be skipped.
      if (head?.def) passError(s, renamed(buf, start, end, head.def), 0, -1);
      else passError(s, buf, start, end);
      // The server skips everything up to the next Sync: what those messages assumed is undone.
      const skipped: Entry[] = head ? [q.shift()!] : [];
      q.dropUntilSync((e) => skipped.push(e));
      droppedAll(s, skipped);
      return;
    }
    case BackendCode.CopyInResponse:
      s.copyIn = true;
      if (!swallow) pass(s, buf, start, end);
      return;
    case BackendCode.ParameterStatus: {
      const [k, v] = be.decodeParameterStatus(buf, start, end);
      s.backend!.params.set(k, v);
      if (!swallow) pass(s, buf, start, end);
      return;
    }
    case BackendCode.NotificationResponse:
      pass(s, buf, start, end);
      return;
    default:
      if (!swallow) pass(s, buf, start, end);
  }
}

/**
 * A server error for the client. A FATAL one (pg_terminate_backend, idle_in_transaction_session_timeout,
 * a server shutdown) means the server closes the connection next: the client then ends with the
 * server's own error, as a direct connection does, and gets none of the proxy's.
 */
function passError(s: ClientSession, buf: Buffer, start: number, end: number): void {
  if (end < 0) end = buf.length;
  const f = be.decodeFields(buf, start, end);
  const severity = f.V ?? f.S;
  if (severity === 'FATAL' || severity === 'PANIC') s.serverFatal = true;
  pass(s, buf, start, end);
}

/**
 * The error with every `"<server-side name>"` replaced by `"<client's name>"` (bytes, so in any
 * client encoding): PostgreSQL's message names the statement as the client named it.
 */
function renamed(buf: Buffer, start: number, end: number, def: StatementDef): Buffer {
  const quoted = (n: Buffer) => Buffer.concat([Buffer.from('"'), n, Buffer.from('"')]);
  const from = quoted(def.serverBytes.subarray(0, -1));
  const to = quoted(def.clientName);
  const parts: Buffer[] = [];
  let i = start + 5;
  for (let j = buf.indexOf(from, i); j >= 0 && j < end; j = buf.indexOf(from, i)) {
    parts.push(buf.subarray(i, j), to);
    i = j + from.length;
  }
  parts.push(buf.subarray(i, end));
  const body = Buffer.concat(parts);
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = buf[start];
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

/** CommandComplete of DEALLOCATE ALL or DISCARD ALL: the server dropped every prepared statement of the connection. */
function droppedStatements(s: ClientSession, buf: Buffer, start: number, end: number): void {
  const tag = buf.toString('latin1', start + 5, end - 1);
  if (tag !== 'DEALLOCATE ALL' && tag !== 'DISCARD ALL') return;
  s.backend?.prepared.clear();
  // The client's own names are gone too, as on a direct connection.
  s.statements.clear();
}

/** Entries that will get no response (the server skipped them after an error): undo what they assumed, last first. */
function droppedAll(s: ClientSession, entries: Entry[]): void {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i];
    if (e.kind === Expect.Parse && e.server && !(e.flags & Flag.Synth)) s.backend?.prepared.delete(e.server);
    e.undo?.();
    e.done?.('skipped after an error', s.backend?.txStatus ?? TxStatus.Idle);
  }
}

/** Answers made up by the proxy go out as soon as everything before them has. */
export function drainSynth(s: ClientSession): void {
  for (let e = s.queue.peek(); e && e.flags & Flag.Synth; e = s.queue.peek()) {
    s.queue.shift();
    if (!s.gone) s.toClient.pushOwned(e.synth!);
  }
}

function toClientStatus(s: ClientSession, real: number): void {
  const shadow = s.shadow!;
  let status = shadow.clientStatus(real);
  if (shadow.lost) {
    s.ctx.stats.error('shadow_lost');
    shadow.lost = false;
  }
  if (real === TxStatus.Failed && shadow.depth === 0) {
    s.internal(shadow.recoverSql(), null);
    status = TxStatus.Idle;
  }
  if (!s.gone) s.toClient.pushOwned(be.readyForQuery(status));
}
