/**
 * Client → backend: each client message of a session that has a backend. Unchanged messages pass as
 * raw byte ranges; the proxy rewrites statement names (named statements under transaction pooling),
 * transaction control in shadow and deferred sessions, and records in the response queue what the
 * backend will answer, so that session/from-backend.ts can match responses in order.
 */
import type { ClientSession } from './client-session';
import { FrontendCode } from '../wire/codes';
import * as be from '../wire/backend-messages';
import * as fe from '../wire/frontend-messages';
import { ProxyErrors } from '../errors';
import { pinReason } from '../sql/statements';
import { debug } from '../debug';
import { Expect, Flag } from './response-queue';
import type { StatementDef } from './statements';
import { DeferState } from './defer';
import { drainSynth } from './from-backend';

/** One client message, with a backend attached. */
export function forwardMessage(s: ClientSession, code: number, buf: Buffer, start: number, end: number): void {
  const b = s.backend!;
  const out = s.toBackend;
  switch (code) {
    case FrontendCode.Query: {
      const sql = fe.decodeQuery(buf, start, end);
      checkPin(s, sql);
      if (s.shadow) {
        shadowBatch(s);
        const text = s.shadow.rewrite(sql, b.txStatus);
        if (text !== null) out.pushOwned(fe.encodeQuery(text));
        else out.push(buf, start, end);
        const tags = s.shadow instanceof DeferState ? s.shadow.takeTags() : null;
        if (tags) return void s.queue.push({ kind: Expect.Query, flags: Flag.None, tags });
      } else out.push(buf, start, end);
      s.queue.push({ kind: Expect.Query, flags: Flag.None });
      return;
    }
    case FrontendCode.Parse: {
      const p = fe.decodeParse(buf, start, end);
      checkPin(s, p.query);
      if (s.shadow) shadowBatch(s);
      const query = (s.shadow && s.shadow.rewrite(p.query, b.txStatus)) ?? p.query;
      if (s.shadow instanceof DeferState && p.name === '') s.deferTag = s.shadow.takeTags()?.[0] ?? null;
      s.unsynced = true;
      if (p.name === '') {
        if (query !== p.query) out.pushOwned(fe.encodeParse('', query, p.types));
        else out.push(buf, start, end);
        s.queue.push({ kind: Expect.Parse, flags: Flag.None });
        return;
      }
      const text = query === p.query ? p.queryBytes : Buffer.from(query, 'utf8');
      const prev = s.statements.get(p.name);
      if (prev) return duplicateParse(s, prev, text, p.types);
      const def = s.statements.make(p.name, text, p.types);
      const undo = s.statements.set(p.name, def);
      if (b.prepared.has(def.server)) {
        s.queue.push({ kind: Expect.Parse, flags: Flag.Synth, synth: be.parseComplete(), undo });
        drainSynth(s);
      } else {
        b.prepared.add(def.server);
        out.pushOwned(fe.encodeParse(def.server, def.query, def.types));
        s.queue.push({ kind: Expect.Parse, flags: Flag.None, server: def.server, undo });
      }
      return;
    }
    case FrontendCode.Bind: {
      s.unsynced = true;
      const n = fe.bindNameEnds(buf, start, end);
      const def = n.statementEnd === n.portalEnd + 1 ? undefined : s.statements.getBytes(buf, n.portalEnd + 1, n.statementEnd);
      if (def) {
        ensurePrepared(s, def);
        out.pushOwned(fe.rebind(buf, start, end, n.portalEnd, n.statementEnd, def.serverBytes));
      } else out.push(buf, start, end); // unknown names get the server's own 26000 error
      s.queue.push({ kind: Expect.Bind, flags: Flag.None, def });
      return;
    }
    case FrontendCode.Describe: {
      s.unsynced = true;
      const t = fe.decodeTarget(buf, start, end);
      const def = t.kind === 0x53 /* 'S' */ && t.name !== '' ? s.statements.get(t.name) : undefined;
      if (def) {
        ensurePrepared(s, def);
        out.pushOwned(fe.encodeTarget(FrontendCode.Describe, t.kind, def.server));
      } else out.push(buf, start, end);
      s.queue.push({ kind: Expect.Describe, flags: Flag.None, def });
      return;
    }
    case FrontendCode.Close: {
      s.unsynced = true;
      const t = fe.decodeTarget(buf, start, end);
      if (t.kind === 0x53 /* 'S' */ && t.name !== '') {
        // Server-side statements are shared between clients: only the client's name goes (and
        // comes back if the server skips this Close after an earlier error).
        const undo = s.statements.get(t.name) ? s.statements.set(t.name, undefined) : undefined;
        s.queue.push({ kind: Expect.Close, flags: Flag.Synth, synth: be.closeComplete(), undo });
        drainSynth(s);
        return;
      }
      out.push(buf, start, end);
      s.queue.push({ kind: Expect.Close, flags: Flag.None });
      return;
    }
    case FrontendCode.Execute:
      s.unsynced = true;
      out.push(buf, start, end);
      if (s.deferTag !== null) {
        s.queue.push({ kind: Expect.Execute, flags: Flag.None, tags: [s.deferTag] });
        s.deferTag = null;
      } else s.queue.push({ kind: Expect.Execute, flags: Flag.None });
      return;
    case FrontendCode.Sync:
      s.unsynced = false;
      out.push(buf, start, end);
      s.queue.push({ kind: Expect.Sync, flags: Flag.None });
      return;
    case FrontendCode.Flush:
    case FrontendCode.CopyData:
      out.push(buf, start, end);
      return;
    case FrontendCode.CopyDone:
    case FrontendCode.CopyFail:
      s.copyIn = false;
      out.push(buf, start, end);
      return;
    case FrontendCode.FunctionCall:
      out.push(buf, start, end);
      s.queue.push({ kind: Expect.Query, flags: Flag.None });
      return;
    case FrontendCode.Terminate:
      s.terminated = true;
      s.close();
      return;
    case FrontendCode.Password:
      throw ProxyErrors.PROTOCOL_VIOLATION('password message after authentication');
    default:
      throw ProxyErrors.UNKNOWN_MESSAGE(`'${String.fromCharCode(code)}' (0x${code.toString(16)})`);
  }
}

function checkPin(s: ClientSession, sql: string): void {
  // A pool grant's connections share one backend in any pool mode: session state pins there too.
  if (s.pinned || (s.mode === 'session' && !s.grant)) return;
  const why = pinReason(sql);
  if (why) {
    s.pinned = why;
    debug('client %d pinned: %s', s.processId, why);
  }
}

/**
 * A Parse of a name the client still has: PostgreSQL parses the text (a syntax error comes first)
 * and then refuses the name with 42P05. The backend is made to give that very answer: it gets the
 * client's statement (re-prepared if it lacks it) and then this Parse under the same server-side
 * name, which it refuses; its error names the client's statement instead of the server-side one.
 * Nothing changes on either side.
 */
function duplicateParse(s: ClientSession, prev: StatementDef, text: Buffer, types: Buffer): void {
  ensurePrepared(s, prev);
  s.toBackend.pushOwned(fe.encodeParse(prev.server, text, types));
  s.queue.push({ kind: Expect.Parse, flags: Flag.None, def: prev });
}

/** Injects a Parse when the serving backend lacks the client's statement; its success is hidden. */
function ensurePrepared(s: ClientSession, def: StatementDef): void {
  const b = s.backend!;
  if (b.prepared.has(def.server)) return;
  b.prepared.add(def.server);
  s.toBackend.pushOwned(fe.encodeParse(def.server, def.query, def.types));
  s.queue.push({ kind: Expect.Parse, flags: Flag.Swallow, server: def.server, def });
}

/** A new batch outside the client's own transaction in a shadow session: refresh the recovery savepoint. */
function shadowBatch(s: ClientSession): void {
  if (s.queue.length > 0 || s.unsynced) return;
  const sql = s.shadow!.batchSql();
  if (sql) s.internal(sql, null);
}
