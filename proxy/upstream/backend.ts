/**
 * One server connection: connects, authenticates (SCRAM-SHA-256, md5 or cleartext — whatever the
 * server asks), then carries raw bytes for whichever client session owns it. pg-protocol parses the
 * startup phase; after ReadyForQuery the bytes go to the owner through a MessageReader.
 */
import net from 'node:net';
import { parse, serialize } from 'pg-protocol';
import { ProxyErrors } from '../errors';
import { debug } from '../debug';
import { ScramClient, md5Password } from '../auth/scram';
import { MessageReader, type ReaderHandler } from '../wire/reader';
import { SocketInput } from '../wire/socket-input';
import { BackendCode, TxStatus } from '../wire/codes';
import { decodeFields, decodeParameterStatus } from '../wire/backend-messages';

/** A server message as pg-protocol's public parser reports it. */
type BackendMessage = Parameters<Parameters<typeof parse>[1]>[0];

export interface UpstreamConfig {
  /** A host name or address, or a Unix socket directory (starting with `/`). */
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
}

/**
 * The server login of a pool other than the upstream's own: the client's database and user (and
 * the password the proxy knows for that user), as PgBouncer keeps one pool per database and user.
 */
export interface BackendLogin {
  database: string;
  user: string;
  password?: string;
}

/**
 * The startup parameters a backend is opened with: a client's own (application_name,
 * client_encoding, DateStyle, options, ...), so that PostgreSQL applies them exactly as it would to
 * a direct connection (their values become the session's reset values, and its ParameterStatus is
 * the client's), and the database and user it logs in as (absent: the upstream's). Backends are
 * pooled per `key`: database and user, then the parameters in a canonical order.
 */
export interface BackendStartup {
  key: string;
  params: Readonly<Record<string, string>>;
  login?: Readonly<BackendLogin>;
}

/** Backends for clients that sent no parameters of their own (and for the proxy's own work). */
export const kNoParams: BackendStartup = Object.freeze({ key: '', params: Object.freeze({}) });

/** The server's own ErrorResponse fields, kept on an error so that a client gets it as the server sent it. */
export interface ServerErrorFields {
  severity: string;
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

/** A client session attached to a backend receives its bytes and its loss. */
export interface BackendOwner {
  /** `chunk[0, n)` was read; the chunk is reused afterwards (wire/socket-input.ts). */
  onBackendData(backend: Backend, chunk: Buffer, n: number): void;
  onBackendClose(backend: Backend, err: Error): void;
}

let nextId = 1;

/** TCP, or the server's Unix socket when `host` is a directory. */
const address = (c: UpstreamConfig): net.NetConnectOpts =>
  c.host.startsWith('/') ? { path: `${c.host.replace(/\/$/, '')}/.s.PGSQL.${c.port}` } : { host: c.host, port: c.port, noDelay: true };

export class Backend {
  readonly id = nextId++;
  pid = 0;
  secret = 0;
  readonly params = new Map<string, string>();
  txStatus: number = TxStatus.Idle;
  /** Server-side names of protocol-level statements prepared on this connection. */
  readonly prepared = new Set<string>();
  owner: BackendOwner | null = null;
  readonly reader: MessageReader;
  /** Reads the server's bytes once the connection is ready (straight into a reused buffer where possible). */
  input: SocketInput | null = null;
  closed = false;
  idleSince = Date.now();
  onClose: ((b: Backend) => void) | null = null;

  /** Outstanding CancelRequests for this connection (session/cancel.ts): it must not change hands before they land. */
  cancelsInFlight = 0;
  /** Called when the last outstanding cancel has been delivered. */
  onCancelsDone: (() => void) | null = null;
  /** The server sent a FATAL error on this connection (it is about to close it). */
  sentFatal = false;
  readonly connectedAt = Date.now();

  private constructor(
    readonly socket: net.Socket,
    readonly config: UpstreamConfig,
    maxMessage: number,
    readonly startup: BackendStartup,
  ) {
    this.reader = new MessageReader(maxMessage);
  }

  /** Opens and authenticates a connection; rejects with UPSTREAM_* errors or the server's own error. */
  static connect(config: UpstreamConfig, timeoutMs: number, maxMessage = 1 << 30, startup: BackendStartup = kNoParams): Promise<Backend> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(address(config));
      const b = new Backend(socket, config, maxMessage, startup);
      let scram: ScramClient | null = null;
      let done = false;
      const fail = (err: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(ProxyErrors.UPSTREAM_CONNECT(`timed out after ${timeoutMs} ms`)), timeoutMs);
      socket.once('error', (err) => fail(ProxyErrors.UPSTREAM_CONNECT(`${config.host}:${config.port}: ${err.message}`, { cause: err })));
      socket.once('close', () => fail(ProxyErrors.UPSTREAM_LOST('closed during startup')));
      socket.on('connect', () => {
        // The client's parameters as it sent them, nothing added: the server's defaults and its
        // ParameterStatus are then what a direct connection gets.
        // (pg-protocol's serializer would append client_encoding=UTF8.)
        socket.write(startupPacket({ ...startup.params, user: config.user, database: config.database }));
        // (config is the upstream's, or the pool's own login: see BackendPool.connect.)
      });
      const onMessage = (msg: BackendMessage) => {
        const m = msg as BackendMessage & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        try {
          switch (msg.name) {
            case 'authenticationCleartextPassword':
              socket.write(serialize.password(requirePassword(config)));
              break;
            case 'authenticationMD5Password':
              socket.write(serialize.password(md5Password(config.user, requirePassword(config), m.salt)));
              break;
            case 'authenticationSASL':
              if (!m.mechanisms.includes('SCRAM-SHA-256')) throw ProxyErrors.UPSTREAM_AUTH(`server offers ${m.mechanisms.join(', ')}`);
              scram = new ScramClient(requirePassword(config));
              socket.write(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', scram.first()));
              break;
            case 'authenticationSASLContinue':
              socket.write(serialize.sendSCRAMClientFinalMessage(scram!.continue(m.data)));
              break;
            case 'authenticationSASLFinal':
              scram!.finish(m.data);
              break;
            case 'parameterStatus':
              b.params.set(m.parameterName, m.parameterValue);
              break;
            case 'backendKeyData':
              b.pid = m.processID;
              b.secret = m.secretKey;
              break;
            case 'error': {
              const fields: ServerErrorFields = { severity: m.severity, code: m.code, message: m.message, detail: m.detail, hint: m.hint };
              fail(Object.assign(ProxyErrors.UPSTREAM_CONNECT(m.message), { sqlstate: m.code, severity: m.severity, serverError: fields }));
              break;
            }
            case 'readyForQuery':
              done = true;
              clearTimeout(timer);
              socket.removeAllListeners('data');
              socket.removeAllListeners('error');
              socket.removeAllListeners('close');
              b.listen();
              debug('backend %d connected (server pid %d)', b.id, b.pid);
              resolve(b);
              break;
          }
        } catch (err) {
          fail(err as Error);
        }
      };
      // Until readyForQuery, which takes the socket's 'data' listeners off for the session's own reader.
      void parse(socket, (msg) => {
        if (!done) onMessage(msg);
      });
    });
  }

  private listen(): void {
    this.input = new SocketInput(this.socket, (chunk, n) => {
      if (this.owner) this.owner.onBackendData(this, chunk, n);
      else this.onIdleData(chunk, n);
    });
    this.input.goDirect();
    const lost = (err?: Error) => this.lost(err ?? ProxyErrors.UPSTREAM_LOST());
    this.socket.on('error', lost);
    this.socket.on('close', () => lost());
  }

  private readonly idleHandler: ReaderHandler = {
    message: (code, buf, start, end) => {
      if (code === BackendCode.ErrorResponse) {
        const f = decodeFields(buf, start, end);
        debug('backend %d idle error %s %s', this.id, f.C, f.M);
        this.destroy();
      } else if (code === BackendCode.ParameterStatus) {
        const [k, v] = decodeParameterStatus(buf, start, end);
        this.params.set(k, v);
      }
    },
    fragment: () => {},
  };

  /** Bytes from a pooled, unowned connection: only errors (e.g. admin shutdown) and parameter changes matter. */
  private onIdleData(chunk: Buffer, n: number): void {
    try {
      this.reader.feed(chunk, this.idleHandler, n);
    } catch {
      this.destroy();
    }
  }

  private lost(err: Error, graceful = false): void {
    if (this.closed) return;
    this.closed = true;
    debug('backend %d closed: %s', this.id, err.message);
    if (graceful) this.socket.end(serialize.end());
    else this.socket.destroy();
    const owner = this.owner;
    this.owner = null;
    owner?.onBackendClose(this, err);
    this.onClose?.(this);
  }

  write(buf: Buffer): void {
    if (!this.closed) this.socket.write(buf);
  }

  /**
   * Sends a CancelRequest for whatever this connection is running, on a new connection as the
   * protocol wants. Until the server has closed that connection (it has then signalled the
   * backend) the backend is counted as having a cancel in flight: the pool keeps it from another
   * client meanwhile, so a late cancel cannot hit someone else's query.
   */
  cancel(): void {
    this.cancelsInFlight++;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (--this.cancelsInFlight === 0 && this.onCancelsDone) {
        const fn = this.onCancelsDone;
        this.onCancelsDone = null;
        fn();
      }
    };
    const s = net.connect(address(this.config), () => s.end(serialize.cancel(this.pid, this.secret)));
    s.on('error', () => s.destroy());
    s.on('close', done);
    // A server that never closes the cancel connection must not hold the backend for ever.
    const timer = setTimeout(() => s.destroy(), 10_000);
    timer.unref();
  }

  /** Graceful close: Terminate, then end. */
  terminate(): void {
    this.lost(ProxyErrors.SHUTDOWN(), true);
  }

  destroy(): void {
    this.lost(ProxyErrors.UPSTREAM_LOST('closed by the proxy'));
  }
}

/** StartupMessage for protocol 3.0 with exactly these parameters. */
function startupPacket(params: Record<string, string>): Buffer {
  const body = Buffer.from(Object.entries(params).map(([k, v]) => `${k}\0${v}\0`).join('') + '\0', 'utf8');
  const head = Buffer.allocUnsafe(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(0x30000, 4);
  return Buffer.concat([head, body]);
}

function requirePassword(config: UpstreamConfig): string {
  if (config.password == null) {
    throw ProxyErrors.UPSTREAM_AUTH(`the server asks for a password for user "${config.user}" and none is configured (options.users; serverUser 'upstream' logs in as the upstream user)`);
  }
  return config.password;
}
