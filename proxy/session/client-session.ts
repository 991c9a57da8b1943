/**
 * One client connection. After startup (session/startup.ts) it relays messages between the client
 * and whichever backend serves it: in transaction mode a backend from the pool for each
 * transaction, kept while session state pins it; in session mode one backend for the whole
 * connection. Unchanged messages pass as raw byte ranges; the proxy only rewrites statement names,
 * shadow transaction control and its own internal queries, keeping response order with a queue.
 */
import type { Socket } from 'node:net';
import type { Backend, BackendOwner } from '../upstream/backend';
import type { ProxyContext } from '../context';
import { BackendCode, FrontendCode, TxStatus } from '../wire/codes';
import { MessageReader, type ReaderHandler } from '../wire/reader';
import * as be from '../wire/backend-messages';
import * as fe from '../wire/frontend-messages';
import { ProxyErrors, sqlstateOf } from '../errors';
import { pinReason } from '../sql/statements';
import { debug } from '../debug';
import { Expect, Flag, ResponseQueue, type Entry } from './response-queue';
import { ClientStatements, type StatementDef } from './statements';
import { ShadowState } from './shadow';
import { Out } from './out';
import { onStartupMessage } from './startup';
import type { Credential } from '../handoff';
import { endHandoff, handoffBackendLost, type Hold } from './handoff-splice';
import { DeferState, kDrop } from './defer';

export const enum Phase {
  Startup,
  Auth,
  Attaching,
  Ready,
  Closed,
}

interface Stashed {
  code: number;
  buf: Buffer;
  fragment: boolean;
}

/** A worker connection continuing another client's session. */
export interface HandoffLink {
  from: ClientSession;
  /** A savepoint was taken at the splice (the original was in a transaction). */
  savepoint: boolean;
  /** The transaction was ended during the hand-off, so the savepoint is gone. */
  sawIdle: boolean;
  /** deferCommit: the decision that the session waits for after the worker leaves. */
  hold: Hold | null;
  /** The backend closed during the hand-off. */
  lost: boolean;
}

export class ClientSession implements BackendOwner {
  socket: Socket;
  readonly reader: MessageReader;
  phase = Phase.Startup;
  processId = 0;
  secretKey = 0;
  user = '';
  params: Record<string, string> = {};
  credential: Credential | null = null;
  backend: Backend | null = null;
  pinned: string | null = null;
  shadow: ShadowState | null = null;
  /** Set while a worker runs on this session's connection: messages wait in the stash. */
  heldBy: ClientSession | null = null;
  handoff: HandoffLink | null = null;
  /** Startup state used by session/startup.ts. */
  auth: unknown = null;

  private acquiring = false;
  private stash: Stashed[] = [];
  private stashBytes = 0;
  private readonly queue = new ResponseQueue();
  private unsynced = false;
  private copyIn = false;
  private readonly statements = new ClientStatements();
  private onIdle: (() => void) | null = null;
  /** The client is gone: backend output is dropped while the backend is cleaned. */
  private gone = false;
  private terminated = false;
  private readonly toBackend = new Out();
  private readonly toClient = new Out();
  /** Deferred hand-off: tag to show for the unnamed statement's Execute. */
  private deferTag: string | null = null;

  constructor(
    socket: Socket,
    readonly ctx: ProxyContext,
  ) {
    this.socket = socket;
    this.reader = new MessageReader(ctx.options.maxMessageSize, true);
    ctx.stats.clientsTotal++;
    this.bindSocket(socket);
  }

  get mode(): 'transaction' | 'session' {
    return this.ctx.options.poolMode;
  }

  /** (Re)binds socket events; TLS replaces the socket after SSLRequest. */
  bindSocket(socket: Socket): void {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onClientData(chunk));
    socket.on('error', (err) => debug('client %d socket error: %s', this.processId, err.message));
    socket.on('close', () => this.close());
  }

  // ---- client → backend ----

  private readonly clientHandler: ReaderHandler = {
    message: (code, buf, start, end) => {
      if (this.phase === Phase.Ready && (this.backend || this.takeIdle(code)) && !this.heldBy && this.stash.length === 0) this.forward(code, buf, start, end);
      else if (this.phase === Phase.Startup || this.phase === Phase.Auth) onStartupMessage(this, code, buf, start, end);
      else this.toStash(code, buf.subarray(start, end), false);
    },
    fragment: (code, buf, start, end) => {
      if (this.phase === Phase.Ready && this.backend && !this.heldBy && this.stash.length === 0) this.toBackend.push(buf, start, end);
      else this.toStash(code, Buffer.from(buf.subarray(start, end)), true);
    },
  };

  private onClientData(chunk: Buffer): void {
    this.ctx.stats.bytesFromClients += chunk.length;
    try {
      this.reader.feed(chunk, this.clientHandler);
    } catch (err) {
      this.fatal(err as Error);
      return;
    }
    this.flush();
  }

  private toStash(code: number, buf: Buffer, fragment: boolean): void {
    if (this.phase === Phase.Closed) return;
    if (code === FrontendCode.Terminate && !fragment && !this.backend && this.stash.length === 0 && !this.heldBy) {
      this.terminated = true;
      this.close();
      return;
    }
    this.stash.push({ code, buf, fragment });
    this.stashBytes += buf.length;
    // Backpressure: a client that floods while it waits for a backend stops being read.
    if (this.stashBytes > 1 << 20) this.socket.pause();
    if (this.phase === Phase.Ready && !this.backend && !this.heldBy) this.acquire();
  }

  /** Forwards stashed messages once a backend serves this session. */
  drainStash(): void {
    while (this.stash.length > 0 && this.backend && !this.heldBy && this.phase === Phase.Ready) {
      const m = this.stash.shift()!;
      this.stashBytes -= m.buf.length;
      if (m.fragment) this.toBackend.push(m.buf, 0, m.buf.length);
      else this.forward(m.code, m.buf, 0, m.buf.length);
    }
    if (this.stashBytes <= 1 << 20 && this.socket.isPaused()) this.socket.resume();
    if (this.stash.length > 0 && !this.backend && !this.heldBy && this.phase === Phase.Ready) this.acquire();
    this.flush();
  }

  /** One client message, with a backend attached. */
  private forward(code: number, buf: Buffer, start: number, end: number): void {
    const b = this.backend!;
    const out = this.toBackend;
    switch (code) {
      case FrontendCode.Query: {
        const sql = fe.decodeQuery(buf, start, end);
        this.checkPin(sql);
        if (this.shadow) {
          this.shadowBatch();
          const text = this.shadow.rewrite(sql, b.txStatus);
          if (text !== null) out.pushOwned(fe.encodeQuery(text));
          else out.push(buf, start, end);
          const tags = this.shadow instanceof DeferState ? this.shadow.takeTags() : null;
          if (tags) return void this.queue.push({ kind: Expect.Query, flags: Flag.None, tags });
        } else out.push(buf, start, end);
        this.queue.push({ kind: Expect.Query, flags: Flag.None });
        return;
      }
      case FrontendCode.Parse: {
        const p = fe.decodeParse(buf, start, end);
        this.checkPin(p.query);
        if (this.shadow) this.shadowBatch();
        const query = (this.shadow && this.shadow.rewrite(p.query, b.txStatus)) ?? p.query;
        if (this.shadow instanceof DeferState && p.name === '') this.deferTag = this.shadow.takeTags()?.[0] ?? null;
        this.unsynced = true;
        if (p.name === '') {
          if (query !== p.query) out.pushOwned(fe.encodeParse('', query, p.types));
          else out.push(buf, start, end);
          this.queue.push({ kind: Expect.Parse, flags: Flag.None });
          return;
        }
        const def = this.statements.define(p.name, query, p.types);
        if (b.prepared.has(def.server)) {
          this.queue.push({ kind: Expect.Parse, flags: Flag.Synth, synth: be.parseComplete(), client: p.name });
          this.drainSynth();
        } else {
          b.prepared.add(def.server);
          out.pushOwned(fe.encodeParse(def.server, query, def.types));
          this.queue.push({ kind: Expect.Parse, flags: Flag.None, server: def.server, client: p.name });
        }
        return;
      }
      case FrontendCode.Bind: {
        this.unsynced = true;
        const n = fe.decodeBindNames(buf, start, end);
        const def = n.statement === '' ? undefined : this.statements.get(n.statement);
        if (def) {
          this.ensurePrepared(def);
          out.pushOwned(fe.encodeBind(n.portal, def.server, buf, n.restAt, end));
        } else out.push(buf, start, end); // unknown names get the server's own 26000 error
        this.queue.push({ kind: Expect.Bind, flags: Flag.None });
        return;
      }
      case FrontendCode.Describe: {
        this.unsynced = true;
        const t = fe.decodeTarget(buf, start, end);
        const def = t.kind === 0x53 /* 'S' */ && t.name !== '' ? this.statements.get(t.name) : undefined;
        if (def) {
          this.ensurePrepared(def);
          out.pushOwned(fe.encodeTarget(FrontendCode.Describe, t.kind, def.server));
        } else out.push(buf, start, end);
        this.queue.push({ kind: Expect.Describe, flags: Flag.None });
        return;
      }
      case FrontendCode.Close: {
        this.unsynced = true;
        const t = fe.decodeTarget(buf, start, end);
        if (t.kind === 0x53 /* 'S' */ && t.name !== '') {
          // Server-side statements are shared between clients: only the client's name goes.
          this.statements.forget(t.name);
          this.queue.push({ kind: Expect.Close, flags: Flag.Synth, synth: be.closeComplete() });
          this.drainSynth();
          return;
        }
        out.push(buf, start, end);
        this.queue.push({ kind: Expect.Close, flags: Flag.None });
        return;
      }
      case FrontendCode.Execute:
        this.unsynced = true;
        out.push(buf, start, end);
        if (this.deferTag !== null) {
          this.queue.push({ kind: Expect.Execute, flags: Flag.None, tags: [this.deferTag] });
          this.deferTag = null;
        } else this.queue.push({ kind: Expect.Execute, flags: Flag.None });
        return;
      case FrontendCode.Sync:
        this.unsynced = false;
        out.push(buf, start, end);
        this.queue.push({ kind: Expect.Sync, flags: Flag.None });
        return;
      case FrontendCode.Flush:
      case FrontendCode.CopyData:
        out.push(buf, start, end);
        return;
      case FrontendCode.CopyDone:
      case FrontendCode.CopyFail:
        this.copyIn = false;
        out.push(buf, start, end);
        return;
      case FrontendCode.FunctionCall:
        out.push(buf, start, end);
        this.queue.push({ kind: Expect.Query, flags: Flag.None });
        return;
      case FrontendCode.Terminate:
        this.terminated = true;
        this.close();
        return;
      case FrontendCode.Password:
        throw ProxyErrors.PROTOCOL_VIOLATION('password message after authentication');
      default:
        throw ProxyErrors.UNKNOWN_MESSAGE(`'${String.fromCharCode(code)}' (0x${code.toString(16)})`);
    }
  }

  private checkPin(sql: string): void {
    if (this.pinned || this.mode === 'session') return;
    const why = pinReason(sql);
    if (why) {
      this.pinned = why;
      debug('client %d pinned: %s', this.processId, why);
    }
  }

  /** Injects a Parse when the serving backend lacks the client's statement; its success is hidden. */
  private ensurePrepared(def: StatementDef): void {
    const b = this.backend!;
    if (b.prepared.has(def.server)) return;
    b.prepared.add(def.server);
    this.toBackend.pushOwned(fe.encodeParse(def.server, def.query, def.types));
    this.queue.push({ kind: Expect.Parse, flags: Flag.Swallow, server: def.server });
  }

  /** A new batch outside the client's own transaction in a shadow session: refresh the recovery savepoint. */
  private shadowBatch(): void {
    if (this.queue.length > 0 || this.unsynced) return;
    const sql = this.shadow!.batchSql();
    if (sql) this.internal(sql, null);
  }

  /** Sends a query of the proxy's own; its responses never reach the client. */
  internal(sql: string, done: Entry['done'] | null): void {
    this.toBackend.pushOwned(fe.encodeQuery(sql));
    this.queue.push({ kind: Expect.Query, flags: Flag.Swallow, done: done ?? undefined });
  }

  // ---- backend → client ----

  private readonly backendHandler: ReaderHandler = {
    message: (code, buf, start, end) => this.fromBackend(code, buf, start, end),
    fragment: (_code, buf, start, end) => {
      const head = this.queue.peek();
      if (!(head && head.flags & Flag.Swallow)) this.pass(buf, start, end);
    },
  };

  onBackendData(b: Backend, chunk: Buffer): void {
    try {
      b.reader.feed(chunk, this.backendHandler);
    } catch (err) {
      debug('backend %d sent bad data: %s', b.id, (err as Error).message);
      this.ctx.stats.error('upstream_protocol');
      this.detach();
      this.ctx.pool.discard(b);
      this.fatal(ProxyErrors.UPSTREAM_LOST('bad data from the server'));
      return;
    }
    this.flush();
    this.afterResponses();
  }

  private pass(buf: Buffer, start: number, end: number): void {
    if (!this.gone) this.toClient.push(buf, start, end);
  }

  private fromBackend(code: number, buf: Buffer, start: number, end: number): void {
    const q = this.queue;
    const head = q.peek();
    const swallow = head !== undefined && (head.flags & Flag.Swallow) !== 0;
    switch (code) {
      case BackendCode.ReadyForQuery: {
        const status = buf[start + 5];
        this.backend!.txStatus = status;
        let e = q.shift();
        while (e && e.kind !== Expect.Sync && e.kind !== Expect.Query) {
          this.dropped(e);
          e = q.shift();
        }
        if (this.handoff && status === TxStatus.Idle) this.handoff.sawIdle = true;
        if (e && e.flags & Flag.Swallow) e.done?.(e.error ?? null, status);
        else if (this.shadow) this.toClientStatus(status);
        else this.pass(buf, start, end);
        this.drainSynth();
        return;
      }
      case BackendCode.ParseComplete:
      case BackendCode.BindComplete:
      case BackendCode.CloseComplete:
      case BackendCode.NoData:
        q.shift();
        if (!swallow) this.pass(buf, start, end);
        this.drainSynth();
        return;
      case BackendCode.RowDescription:
        if (head?.kind === Expect.Describe) q.shift();
        if (!swallow) this.pass(buf, start, end);
        this.drainSynth();
        return;
      case BackendCode.CommandComplete:
        if (head?.tags && (head.kind === Expect.Query || head.kind === Expect.Execute)) {
          if (head.kind === Expect.Execute) q.shift();
          const tag = head.tags.shift();
          if (tag === kDrop) return;
          if (!swallow && tag) {
            if (!this.gone) this.toClient.pushOwned(be.commandComplete(tag));
          } else if (!swallow) this.pass(buf, start, end);
          this.drainSynth();
          return;
        }
        if (head?.kind === Expect.Execute) q.shift();
        if (!swallow) this.pass(buf, start, end);
        this.drainSynth();
        return;
      case BackendCode.EmptyQueryResponse:
      case BackendCode.PortalSuspended:
        if (head?.kind === Expect.Execute) q.shift();
        if (!swallow) this.pass(buf, start, end);
        this.drainSynth();
        return;
      case BackendCode.ErrorResponse: {
        this.copyIn = false;
        if (head && (head.kind === Expect.Query || head.kind === Expect.Sync)) {
          if (swallow) {
            head.error ??= be.decodeFields(buf, start, end).M ?? 'error';
            debug('client %d internal query failed: %s', this.processId, head.error);
          } else this.pass(buf, start, end);
          return;
        }
        // A failed re-prepare is the client's error too: its Bind will be skipped.
        this.pass(buf, start, end);
        if (head) this.dropped(q.shift()!);
        q.dropUntilSync((e) => this.dropped(e));
        return;
      }
      case BackendCode.CopyInResponse:
        this.copyIn = true;
        if (!swallow) this.pass(buf, start, end);
        return;
      case BackendCode.ParameterStatus: {
        const [k, v] = be.decodeParameterStatus(buf, start, end);
        this.backend!.params.set(k, v);
        if (!swallow) this.pass(buf, start, end);
        return;
      }
      case BackendCode.NotificationResponse:
        this.pass(buf, start, end);
        return;
      default:
        if (!swallow) this.pass(buf, start, end);
    }
  }

  /** An entry that will get no response (skipped after an error): undo what it assumed. */
  private dropped(e: Entry): void {
    if (e.kind === Expect.Parse) {
      if (e.server && !(e.flags & Flag.Synth)) this.backend?.prepared.delete(e.server);
      if (e.client) this.statements.forget(e.client, e.server);
    }
    e.done?.('skipped after an error', this.backend?.txStatus ?? TxStatus.Idle);
  }

  /** Answers made up by the proxy go out as soon as everything before them has. */
  private drainSynth(): void {
    for (let e = this.queue.peek(); e && e.flags & Flag.Synth; e = this.queue.peek()) {
      this.queue.shift();
      if (!this.gone) this.toClient.pushOwned(e.synth!);
    }
  }

  private toClientStatus(real: number): void {
    const shadow = this.shadow!;
    let status = shadow.clientStatus(real);
    if (shadow.lost) {
      this.ctx.stats.error('shadow_lost');
      shadow.lost = false;
    }
    if (real === TxStatus.Failed && shadow.depth === 0) {
      this.internal(shadow.recoverSql(), null);
      status = TxStatus.Idle;
    }
    if (!this.gone) this.toClient.pushOwned(be.readyForQuery(status));
  }

  onBackendClose(b: Backend, err: Error): void {
    if (this.backend !== b) return;
    this.backend = null;
    this.queue.clear();
    if (this.handoff) handoffBackendLost(this);
    this.ctx.stats.error('upstream_lost');
    this.fatal(ProxyErrors.UPSTREAM_LOST(err.message), '57P01');
  }

  // ---- backends ----

  /** Whether nothing is in flight on the backend (a point where it can change hands). */
  get quiet(): boolean {
    return this.queue.length === 0 && !this.unsynced && !this.copyIn;
  }

  /** Runs `fn` once nothing is in flight on this session's backend. */
  whenQuiet(fn: () => void): void {
    if (!this.backend || this.quiet) fn();
    else this.onIdle = fn;
  }

  /** Releases the backend when nothing holds it any more (transaction mode). */
  settle(): void {
    this.afterResponses();
  }

  /** Forwards a CancelRequest to whichever backend runs this session's work. */
  cancelRunning(): void {
    (this.backend ?? this.heldBy?.backend)?.cancel();
  }

  /** Forgets a pending whenQuiet callback. */
  cancelWait(): void {
    this.onIdle = null;
  }

  private afterResponses(): void {
    if (!this.backend || !this.quiet) return;
    if (this.onIdle) {
      const fn = this.onIdle;
      this.onIdle = null;
      fn();
      this.flush();
      return;
    }
    if (this.mode === 'transaction' && !this.pinned && !this.shadow && !this.handoff && this.backend.txStatus === TxStatus.Idle) {
      const b = this.detach()!;
      this.ctx.pool.release(b);
      if (this.stash.length > 0) this.acquire();
    }
  }

  /** Transaction pooling's common case: an idle backend is at hand, so the message goes out without waiting in the stash. */
  private takeIdle(code: number): boolean {
    if (this.acquiring || this.heldBy || this.stash.length > 0 || code === FrontendCode.Terminate) return false;
    const b = this.ctx.pool.takeIdle();
    if (!b) return false;
    this.attach(b);
    return true;
  }

  acquire(then?: () => void): void {
    if (this.acquiring || this.backend) return;
    this.acquiring = true;
    this.ctx.pool.acquire((err, b) => {
      this.acquiring = false;
      if (this.phase === Phase.Closed || this.gone) {
        if (b) this.ctx.pool.release(b);
        return;
      }
      if (err || !b) {
        this.ctx.stats.error(ProxyErrors.POOL_TIMEOUT.is(err) ? 'pool_timeout' : 'upstream_connect');
        this.fatal(err ?? ProxyErrors.UPSTREAM_CONNECT());
        return;
      }
      this.attach(b);
      if (then) then();
      this.drainStash();
    });
  }

  attach(b: Backend): void {
    this.backend = b;
    b.owner = this;
  }

  detach(): Backend | null {
    const b = this.backend;
    if (b) {
      b.owner = null;
      this.backend = null;
    }
    return b;
  }

  /** Writes what the last pass queued; slow readers pause the other side. */
  flush(): void {
    const b = this.backend;
    if (b && !this.toBackend.empty) {
      if (!this.toBackend.flush(b.socket)) {
        this.socket.pause();
        b.socket.once('drain', () => this.phase !== Phase.Closed && this.socket.resume());
      }
    }
    if (!this.toClient.empty) {
      if (this.gone || this.phase === Phase.Closed) this.toClient.discard();
      else {
        const before = this.toClient.bytes;
        const ok = this.toClient.flush(this.socket);
        this.ctx.stats.bytesToClients += this.toClient.bytes - before;
        if (!ok && b) {
          b.socket.pause();
          this.socket.once('drain', () => b.socket.resume());
        }
      }
    }
  }

  /** Sends bytes the proxy made (startup answers, errors) straight to the client. */
  send(buf: Buffer): void {
    if (this.phase !== Phase.Closed && !this.socket.destroyed) {
      this.ctx.stats.bytesToClients += buf.length;
      this.socket.write(buf);
    }
  }

  // ---- shadow ----

  shadowBegin(): void {
    if (this.shadow) return;
    this.ctx.stats.shadowTotal++;
    const start = () => {
      this.shadow = new ShadowState(this.backend!.txStatus);
      this.internal(this.shadow.beginSql(), (err) => err && debug('client %d shadow begin failed: %s', this.processId, err));
      this.flush();
    };
    if (this.backend) start();
    else this.acquire(start);
  }

  shadowEnd(): void {
    const shadow = this.shadow;
    if (!shadow || !this.backend) return;
    this.shadow = null;
    this.internal(shadow.endSql(), () => this.afterResponses());
    this.flush();
  }

  // ---- the end ----

  /** Sends a FATAL error (SQLSTATE from the error) and closes. */
  fatal(err: Error, sqlstate = sqlstateOf(err)): void {
    if (this.phase === Phase.Closed) return;
    debug('client %d fatal: %s', this.processId, err.message);
    this.ctx.stats.error(sqlstate === '08P01' ? 'protocol' : 'fatal');
    this.send(be.errorResponse({ severity: 'FATAL', code: sqlstate, message: err.message }));
    this.socket.end();
    this.close();
  }

  /** Proxy shutdown: FATAL 57P01 to the client, backends closed without cleaning. */
  shutdown(): void {
    this.send(be.errorResponse({ severity: 'FATAL', code: '57P01', message: 'terminating connection: the proxy is shutting down' }));
    const b = this.detach();
    if (b) this.ctx.pool.discard(b);
    this.heldBy = null;
    this.handoff?.hold?.settle(ProxyErrors.SHUTDOWN());
    this.handoff = null;
    this.close();
  }

  /** The client left (Terminate, socket closed, or an error): clean and return its backend. */
  close(): void {
    if (this.phase === Phase.Closed) return;
    const wasReady = this.phase === Phase.Ready;
    this.phase = Phase.Closed;
    this.reader.stop();
    this.stash = [];
    this.ctx.sessions.unregister(this);
    if (!this.socket.destroyed) (this.terminated ? this.socket.end() : this.socket.destroy());
    if (this.handoff) return endHandoff(this, !this.terminated);
    if (this.heldBy) return; // the worker's end returns the backend here and finds it closed
    if (this.backend && wasReady) this.cleanBackend(this.terminated);
    else if (this.backend) this.ctx.pool.discard(this.detach()!);
  }

  /**
   * Returns the backend clean: finishes what is in flight (output dropped), rolls back an open
   * transaction, and resets session state with DISCARD ALL when the session could have set any.
   * Anything unexpected closes the backend instead.
   */
  cleanBackend(graceful: boolean, forceReset = false): void {
    const b = this.backend!;
    this.quiesce();
    if (!graceful && b.txStatus !== TxStatus.Idle) this.ctx.stats.error('client_vanished_in_transaction');
    const timer = setTimeout(() => {
      debug('backend %d not clean after %d ms: closed', b.id, this.ctx.options.cleanupTimeoutMs);
      if (this.backend === b) this.ctx.pool.discard(this.detach()!);
    }, this.ctx.options.cleanupTimeoutMs);
    timer.unref();
    const giveBack = (err: string | null) => {
      clearTimeout(timer);
      if (this.backend !== b) return;
      this.detach();
      if (err || b.txStatus !== TxStatus.Idle) this.ctx.pool.discard(b);
      else this.ctx.pool.release(b);
    };
    this.whenQuiet(() => {
      const reset = forceReset || this.mode === 'session' || this.pinned !== null || this.handoff !== null;
      const rollback = b.txStatus !== TxStatus.Idle;
      if (!rollback && !reset) return giveBack(null);
      if (rollback) this.internal('ROLLBACK', reset ? (err) => (err ? giveBack(err) : null) : giveBack);
      if (reset) {
        this.internal('DISCARD ALL', (err) => {
          b.prepared.clear();
          giveBack(err);
        });
      }
    });
    this.flush();
  }

  /** Stops output to the client and brings the backend to a point where requests end (CopyFail, Sync). */
  quiesce(): void {
    this.gone = true;
    this.toClient.discard();
    if (this.copyIn) {
      this.toBackend.pushOwned(fe.copyFailMessage('client went away'));
      this.copyIn = false;
    }
    if (this.unsynced) {
      this.toBackend.pushOwned(fe.syncMessage());
      this.queue.push({ kind: Expect.Sync, flags: Flag.Swallow });
      this.unsynced = false;
    }
  }
}
