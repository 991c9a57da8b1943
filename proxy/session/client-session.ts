/**
 * One client connection. After startup (session/startup.ts) it relays messages between the client
 * and whichever backend serves it: in transaction mode a backend from the pool for each
 * transaction, kept while session state pins it; in session mode one backend for the whole
 * connection. Unchanged messages pass as raw byte ranges; the proxy only rewrites statement names,
 * shadow transaction control and its own internal queries, keeping response order with a queue.
 * This file holds the connection, its stash and its backend; the relay itself is in forward.ts
 * (client → backend) and from-backend.ts (backend → client), the cleaning in cleanup.ts.
 */
import type { Socket } from 'node:net';
import { kNoParams, type Backend, type BackendOwner, type BackendStartup, type ServerErrorFields } from '../upstream/backend';
import type { ProxyContext } from '../context';
import { FrontendCode, TxStatus } from '../wire/codes';
import { MessageReader, type ReaderHandler } from '../wire/reader';
import { SocketInput } from '../wire/socket-input';
import * as be from '../wire/backend-messages';
import * as fe from '../wire/frontend-messages';
import { ProxyErrors, sqlstateOf } from '../errors';
import { debug } from '../debug';
import { Expect, Flag, ResponseQueue, type Entry } from './response-queue';
import { ClientStatements } from './statements';
import type { ShadowState } from './shadow';
import { Out } from './out';
import { onStartupMessage } from './startup';
import { onAdminMessage } from './admin';
import type { Credential } from '../handoff';
import { endHandoff, handoffBackendLost, type HandoffLink } from './handoff-splice';
import { forwardMessage } from './forward';
import { backendHandler, pass } from './from-backend';
import { cleanBackend } from './cleanup';
import type { GrantTx } from './grant-tx';

/**
 * Largest message accepted before authentication, as PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH (the
 * startup packet itself has its own 10,000-byte limit, also PostgreSQL's).
 */
export const kMaxAuthMessage = 65_535;
/** After a FATAL error, how long input is still read (and dropped) so that the error reaches the client. */
const kLingerMs = 1_000;

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

export class ClientSession implements BackendOwner {
  socket: Socket;
  /** Reads the client socket (straight into a reused buffer once the session relays: goDirect). */
  input!: SocketInput;
  readonly reader: MessageReader;
  phase = Phase.Startup;
  processId = 0;
  secretKey = 0;
  user = '';
  params: Record<string, string> = {};
  /** The startup parameters its backends are opened with (session/startup.ts). */
  startup: BackendStartup = kNoParams;
  credential: Credential | null = null;
  backend: Backend | null = null;
  pinned: string | null = null;
  shadow: ShadowState | null = null;
  /** Set while a worker runs on this session's connection: messages wait in the stash. */
  heldBy: ClientSession | null = null;
  handoff: HandoffLink | null = null;
  /** Hand-offs of this session waiting for the one in progress to end (session/handoff-splice.ts). */
  readonly claims: Array<() => void> = [];
  /** A connection of a deferred pool grant: served by the grant's backend (session/grant-tx.ts). */
  grant: GrantTx | null = null;
  /** A session of the admin console (session/admin.ts): no backend, the proxy answers. */
  admin = false;
  /** Admin console: an extended-protocol message was refused; the rest up to Sync is ignored. */
  adminFailed = false;
  readonly connectedAt = Date.now();
  /** Startup state used by session/startup.ts. */
  auth: unknown = null;

  // Relay state, shared with forward.ts, from-backend.ts and cleanup.ts (not for other modules).
  /** What the backend still owes, in order. */
  readonly queue = new ResponseQueue();
  /** Extended-protocol messages sent since the last Sync. */
  unsynced = false;
  copyIn = false;
  readonly statements = new ClientStatements();
  /** The client is gone: backend output is dropped while the backend is cleaned. */
  gone = false;
  terminated = false;
  readonly toBackend = new Out();
  readonly toClient = new Out();
  /** The client was passed a FATAL error of its backend's server (which closes that connection next). */
  serverFatal = false;
  /** Deferred hand-off: tag to show for the unnamed statement's Execute. */
  deferTag: string | null = null;

  private acquiring = false;
  private loginTimer: NodeJS.Timeout | null = null;
  /** fatal(): the socket was ended; it is destroyed after kLingerMs. */
  private lingering = false;
  private stash: Stashed[] = [];
  private stashBytes = 0;
  private onIdle: (() => void) | null = null;

  constructor(
    socket: Socket,
    readonly ctx: ProxyContext,
  ) {
    this.socket = socket;
    // Before authentication a client is a stranger: small messages only (PostgreSQL's own limits),
    // nothing streamed, and a deadline to log in (session/startup.ts lifts both).
    this.reader = new MessageReader(kMaxAuthMessage, true);
    this.reader.streaming = false;
    ctx.stats.clientsTotal++;
    ctx.unauthenticated++;
    this.loginTimer = setTimeout(() => {
      ctx.stats.error('login_timeout');
      this.fatal(ProxyErrors.LOGIN_TIMEOUT(`no login within ${ctx.options.loginTimeoutMs} ms`));
    }, ctx.options.loginTimeoutMs);
    this.loginTimer.unref();
    this.bindSocket(socket);
  }

  /** The client has authenticated: the limits for strangers no longer apply. */
  loggedIn(): void {
    if (!this.loginTimer) return;
    clearTimeout(this.loginTimer);
    this.loginTimer = null;
    this.ctx.unauthenticated--;
    this.reader.maxLength = this.ctx.options.maxMessageSize;
    this.reader.streaming = true;
  }

  /** Whether it waits for a backend now (SHOW CLIENTS). */
  get waitingForBackend(): boolean {
    return this.acquiring;
  }

  get mode(): 'transaction' | 'session' {
    return this.ctx.options.poolMode;
  }

  /** (Re)binds socket events; TLS replaces the socket after SSLRequest. */
  bindSocket(socket: Socket): void {
    this.socket = socket;
    this.input = new SocketInput(socket, (buf, n) => this.onClientData(buf, n));
    socket.on('error', (err) => debug('client %d socket error: %s', this.processId, err.message));
    socket.on('close', () => this.close());
  }

  // ---- client → backend ----

  private readonly clientHandler: ReaderHandler = {
    message: (code, buf, start, end) => {
      if (this.admin && this.phase === Phase.Ready) return onAdminMessage(this, code, buf, start, end);
      if (this.phase === Phase.Ready && (this.backend || this.takeIdle(code)) && !this.heldBy && this.stash.length === 0) forwardMessage(this, code, buf, start, end);
      else if (this.phase === Phase.Startup || this.phase === Phase.Auth) onStartupMessage(this, code, buf, start, end);
      // A copy: the chunk may be the connection's reused read buffer.
      else this.toStash(code, Buffer.from(buf.subarray(start, end)), false);
    },
    fragment: (code, buf, start, end) => {
      if (this.phase === Phase.Ready && this.backend && !this.heldBy && this.stash.length === 0) this.toBackend.push(buf, start, end);
      else this.toStash(code, Buffer.from(buf.subarray(start, end)), true);
    },
  };

  private onClientData(chunk: Buffer, n: number): void {
    this.ctx.stats.bytesFromClients += n;
    try {
      this.reader.feed(chunk, this.clientHandler, n);
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
    if (this.stashBytes > 1 << 20) this.input.pause();
    if (this.phase === Phase.Ready && !this.backend && !this.heldBy) this.acquire();
  }

  /** Forwards stashed messages once a backend serves this session. */
  drainStash(): void {
    while (this.stash.length > 0 && this.backend && !this.heldBy && this.phase === Phase.Ready) {
      const m = this.stash.shift()!;
      this.stashBytes -= m.buf.length;
      if (m.fragment) this.toBackend.push(m.buf, 0, m.buf.length);
      else forwardMessage(this, m.code, m.buf, 0, m.buf.length);
    }
    if (this.stashBytes <= 1 << 20 && this.input.isPaused) this.input.resume();
    if (this.stash.length > 0 && !this.backend && !this.heldBy && this.phase === Phase.Ready) this.acquire();
    this.flush();
  }

  /** Sends a query of the proxy's own; its responses never reach the client. */
  internal(sql: string, done: Entry['done'] | null): void {
    this.toBackend.pushOwned(fe.encodeQuery(sql));
    this.queue.push({ kind: Expect.Query, flags: Flag.Swallow, done: done ?? undefined });
  }

  // ---- backend → client ----

  private readonly backendHandler: ReaderHandler = backendHandler(this);

  onBackendData(b: Backend, chunk: Buffer, n: number): void {
    try {
      b.reader.feed(chunk, this.backendHandler, n);
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

  onBackendClose(b: Backend, err: Error): void {
    if (this.backend !== b) return;
    this.backend = null;
    this.queue.clear();
    if (this.handoff) handoffBackendLost(this);
    if (this.grant) {
      this.shadow = null;
      this.grant.backendLost();
    }
    this.ctx.stats.error('upstream_lost');
    if (this.serverFatal && !this.handoff && !this.heldBy) {
      // The client has the server's own reason (FATAL 57P01 of pg_terminate_backend, 25P03, ...):
      // it ends as a direct connection would, without a second error of the proxy's.
      this.flush();
      this.endAfterError();
      return;
    }
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

  /** Starts the next queued hand-off of this session, if it is free. */
  nextClaim(): void {
    while (this.claims.length > 0 && !this.heldBy) this.claims.shift()!();
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
    if (this.grant) {
      // Between statements (outside the worker's own transaction) the grant's other connections get their turn.
      this.grant.yieldFrom(this);
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
    const b = this.grant ? this.grant.takeFree(this) : this.ctx.pool.takeIdle(this.startup);
    if (!b) return false;
    this.attach(b);
    return true;
  }

  acquire(then?: () => void): void {
    if (this.acquiring || this.backend) return;
    this.acquiring = true;
    const got = (err: Error | null, b: Backend | null) => {
      this.acquiring = false;
      if (this.phase === Phase.Closed || this.gone) {
        if (b && this.grant) {
          this.attach(b);
          this.grant.yieldFrom(this);
        } else if (b) this.ctx.pool.release(b);
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
    };
    if (this.grant) this.grant.acquire(this, got);
    else this.ctx.pool.acquire(got, this.startup);
  }

  attach(b: Backend): void {
    this.backend = b;
    b.owner = this;
    if (this.grant) this.shadow = this.grant.defer;
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
        this.input.pause();
        b.socket.once('drain', () => this.phase !== Phase.Closed && this.input.resume());
      }
    }
    if (!this.toClient.empty) {
      if (this.gone || this.phase === Phase.Closed) this.toClient.discard();
      else {
        const before = this.toClient.bytes;
        const ok = this.toClient.flush(this.socket);
        this.ctx.stats.bytesToClients += this.toClient.bytes - before;
        if (!ok && b) {
          b.input?.pause();
          this.socket.once('drain', () => b.input?.resume());
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

  // ---- the end ----

  /** Sends a FATAL error (SQLSTATE from the error) and closes. */
  fatal(err: Error, sqlstate = sqlstateOf(err)): void {
    if (this.phase === Phase.Closed) return;
    debug('client %d fatal: %s', this.processId, err.message);
    // A worker's connection refused or broken (not closed at its invocation's end): its work is
    // not what the worker's handler saw succeed, so the invocation must not commit.
    const c = this.credential;
    if (c && !ProxyErrors.HANDOFF_FINISHED.is(err)) {
      if (c.grantTx) c.grantTx.failed ??= err.message;
      else c.refused ??= err.message;
    }
    this.ctx.stats.error(sqlstate === '08P01' ? 'protocol' : 'fatal');
    // An error the server sent (it refused the client's startup parameters, say) goes out as it sent it.
    const server = (err as { serverError?: ServerErrorFields }).serverError;
    const fields = server ? { ...server, severity: 'FATAL' as const, code: server.code || sqlstate } : { severity: 'FATAL' as const, code: sqlstate, message: err.message };
    this.send(be.errorResponse(fields));
    this.endAfterError();
  }

  /** Ends the connection after an error was written to it. */
  private endAfterError(): void {
    this.socket.end();
    // Closing at once with unread input would reset the connection and could destroy the error
    // before the client reads it: the socket stops being read and is destroyed a moment later.
    this.input.pause();
    this.lingering = true;
    this.close();
  }

  /** The client left (Terminate, socket closed, or an error): clean and return its backend. */
  close(): void {
    if (this.phase === Phase.Closed) return;
    const wasReady = this.phase === Phase.Ready;
    this.phase = Phase.Closed;
    if (this.loginTimer) {
      clearTimeout(this.loginTimer);
      this.loginTimer = null;
      this.ctx.unauthenticated--;
    }
    this.reader.stop();
    this.stash = [];
    this.ctx.sessions.unregister(this);
    if (this.lingering) {
      const socket = this.socket;
      setTimeout(() => socket.destroy(), kLingerMs).unref();
    } else if (!this.socket.destroyed) (this.terminated ? this.socket.end() : this.socket.destroy());
    // Hand-offs queued on this session: they are refused now (the original is gone).
    this.nextClaim();
    if (this.grant) return this.grant.leave(this);
    if (this.handoff) return endHandoff(this, !this.terminated);
    if (this.heldBy) return; // the worker's end returns the backend here and finds it closed
    if (this.backend && wasReady) cleanBackend(this, this.terminated);
    else if (this.backend) this.ctx.pool.discard(this.detach()!);
  }
}
