import { validateHeaderName, validateHeaderValue } from 'node:http';
import { WorkerErrors } from './errors';

/**
 * What an offloaded handler gets as `req` and `res`. Both are built on Express's own request and
 * response prototypes (the worker's copy of the server's Express, named by the server), so that
 * every getter and helper (`req.ip`, `req.fresh`, `req.range()`, `res.get()` after `res.type()`,
 * `res.format()`) is Express's code computing from the server's raw values. `res` records each
 * top-level call the handler makes; the server replays them on the real response.
 */
export interface ReqSnapshot {
  /** The request's own properties: url, method, params, body, what middleware attached. */
  props: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** The socket as Express reads it (`req.ip`, `req.protocol`). */
  socket?: SocketView;
  /** Express's request prototype (`express/lib/request.js`), when the app is an Express app. */
  proto?: string;
  /** Express's `lib/utils.js`: compiles `trust proxy` and `query parser` settings on the worker. */
  utils?: string;
  /** What the app put on `app.request` (its prototype): inherited by the worker's request too. */
  ext?: Record<string, unknown>;
  app: AppSnapshot;
  /** The request's session, as data (see session-shims). */
  session?: unknown;
}

export interface SocketView {
  remoteAddress?: string;
  remotePort?: number;
  remoteFamily?: string;
  localAddress?: string;
  localPort?: number;
  encrypted?: boolean;
}

export interface AppSnapshot {
  locals: Record<string, unknown>;
  settings: Record<string, unknown>;
  /** Settings every request getter reads, inline (the full settings object is a lazy reference). */
  hot?: Record<string, unknown>;
}

export interface ExpressUtils {
  compileTrust(v: unknown): unknown;
  compileQueryParser(v: unknown): unknown;
}

export interface ResInit {
  locals: Record<string, unknown>;
  statusCode: number;
  headers: Record<string, unknown>;
  /** Own properties middleware put on the response (`res.ok = ...`). */
  props?: Record<string, unknown>;
  /** Express's response prototype (`express/lib/response.js`). */
  proto?: string;
  /** What the app put on `app.response` (`app.response.message = ...`). */
  ext?: Record<string, unknown>;
}

export type ResCall = [string, ...unknown[]];

/** The server's Express app as a handler may use it: settings and locals (the server's own objects). */
export function makeAppView(snap: AppSnapshot, utils?: ExpressUtils): Record<string, unknown> {
  const compiled = new Map<string, unknown>();
  const hot = snap.hot;
  const app = Object.create({
    get(this: { settings: Record<string, unknown> }, name: string) {
      if (hot && utils && (name === 'trust proxy fn' || name === 'query parser fn')) {
        if (!compiled.has(name)) {
          compiled.set(name, name === 'trust proxy fn' ? utils.compileTrust(hot['trust proxy']) : utils.compileQueryParser(hot['query parser']));
        }
        return compiled.get(name);
      }
      if (hot && Object.prototype.hasOwnProperty.call(hot, name)) return hot[name];
      return this.settings[name];
    },
    enabled(this: { get(n: string): unknown }, name: string) {
      return Boolean(this.get(name));
    },
    disabled(this: { get(n: string): unknown }, name: string) {
      return !this.get(name);
    },
  });
  app.locals = snap.locals;
  app.settings = snap.settings;
  return app;
}

/** Without Express's prototype (a Nest method's call), the few helpers anything reads. */
const plainRequestProto = {
  get(this: { headers: Record<string, unknown> }, name: string) {
    const n = String(name).toLowerCase();
    if (n === 'referer' || n === 'referrer') return this.headers.referer ?? this.headers.referrer;
    return this.headers[n];
  },
  header(this: { get(n: string): unknown }, name: string) {
    return this.get(name);
  },
};

const defineValue = (o: object, k: string, value: unknown) =>
  Object.defineProperty(o, k, { value, writable: true, enumerable: true, configurable: true });

/** Own properties of the worker's request that are its plumbing, not the handler's data. */
export const REQ_PLUMBING = new Set(['app', 'res', 'next', 'socket', 'route', 'session', 'sessionStore', 'sessionID', 'sessionOptions']);

/**
 * Builds the request into `target` (an object the closure may already reference: the server's real
 * request reached through a middleware's closure decodes to it).
 */
export function makeRequest(snap: ReqSnapshot, load: (spec: string) => unknown, target: Record<string, unknown> = {}): Record<string, unknown> {
  const proto = snap.proto ? (load(snap.proto) as object) : plainRequestProto;
  Object.setPrototypeOf(target, snap.ext ? Object.assign(Object.create(proto), snap.ext) : proto);
  for (const k of Object.keys(snap.props)) defineValue(target, k, snap.props[k]);
  // The server shares its route record between requests: the handler gets its own copy.
  const route = snap.props.route as { methods?: object } | undefined;
  if (route && typeof route === 'object') defineValue(target, 'route', { ...route, methods: { ...route.methods } });
  defineValue(target, 'headers', snap.headers);
  defineValue(target, 'app', makeAppView(snap.app, snap.utils ? (load(snap.utils) as ExpressUtils) : undefined));
  defineValue(target, 'socket', { ...(snap.socket ?? {}) });
  return target;
}

/** Response methods that run on the worker (they only set headers or status) and are recorded. */
const RUN_AND_RECORD = ['status', 'set', 'header', 'append', 'type', 'contentType', 'location', 'cookie', 'clearCookie', 'attachment', 'vary', 'links'];
/** Response methods that send: recorded, run by the server at the replay. */
const SENDING_SYNC = ['json', 'jsonp', 'send', 'sendStatus', 'redirect', 'end'];
/** These send asynchronously on the server (views, files): headers are not sent when they return. */
const SENDING_ASYNC = ['render', 'sendFile', 'download'];
/** How a listener was added: replayed as the same call on the real response. */
export const LISTEN = ['on', 'once', 'prependListener', 'prependOnceListener'];

const headersSentError = () =>
  Object.assign(new Error('Cannot set headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });

/** The response recorder. `done` resolves when the handler has ended the response or called next. */
export class ResponseRecorder {
  readonly calls: ResCall[] = [];
  /** Ended (or next() called): the invocation may finish. */
  finished = false;
  headersSent = false;
  statusCode: number;
  readonly locals: Record<string, unknown>;
  private readonly headers = new Map<string, { name: string; value: unknown }>();
  private depth = 0;
  private onDone?: () => void;
  readonly done = new Promise<void>((resolve) => (this.onDone = resolve));
  readonly res: Record<string, unknown>;

  constructor(
    init: ResInit,
    req: Record<string, unknown>,
    private readonly refuse: (reason: string) => Error,
    load: (spec: string) => unknown,
    target: Record<string, unknown> = {},
  ) {
    this.statusCode = init.statusCode;
    this.locals = init.locals;
    for (const [k, v] of Object.entries(init.headers ?? {})) this.headers.set(k.toLowerCase(), { name: k, value: v });
    this.res = this.build(init, req, target, init.proto ? (load(init.proto) as Record<string, (...a: unknown[]) => unknown>) : {});
  }

  finish(): void {
    this.finished = true;
    this.onDone?.();
  }

  /** `res.on('finish' | 'close', fn)`: recorded for the replay; any other event is the socket's. */
  listen(method: string, event: unknown, fn: unknown, self: unknown): unknown {
    if (event !== 'finish' && event !== 'close') throw this.refuse(`res.${method}('${String(event)}') listener: only 'finish' and 'close' listeners can be registered on the server's response`);
    if (typeof fn !== 'function') throw new TypeError('The "listener" argument must be of type function');
    if (this.depth === 0) this.calls.push([method, event, fn]);
    return self;
  }

  /** `res.off(event, fn)` of a listener this handler added: it is never registered on the server. */
  unlisten(event: unknown, fn: unknown): void {
    for (let i = this.calls.length - 1; i >= 0; i--) {
      const c = this.calls[i];
      if (LISTEN.includes(c[0]) && c[1] === event && c[2] === fn) {
        this.calls.splice(i, 1);
        return;
      }
    }
  }

  private record<T>(name: string, args: unknown[], run: () => T): T {
    if (this.depth > 0) return run();
    const at = this.calls.push([name, ...args]) - 1;
    this.depth++;
    try {
      return run();
    } catch (err) {
      // A call that threw did nothing here; it must not be replayed either.
      this.calls.splice(at);
      throw err;
    } finally {
      this.depth--;
    }
  }

  private build(init: ResInit, req: Record<string, unknown>, target: Record<string, unknown>, proto: Record<string, (...a: unknown[]) => unknown>): Record<string, unknown> {
    const rec = this;
    const noCallbacks = (name: string, args: unknown[]) => {
      if (args.some((a) => typeof a === 'function')) {
        throw rec.refuse(`res.${name}() with a callback: the callback would have to run on the server after the ${name === 'end' || name === 'write' ? 'write' : 'send'}`);
      }
    };
    const base: Record<string, unknown> = {
      get statusCode() {
        return rec.statusCode;
      },
      set statusCode(v: number) {
        if (rec.depth === 0) rec.calls.push(['statusCode=', v]);
        rec.statusCode = v;
      },
      get headersSent() {
        return rec.headersSent;
      },
      get writableEnded() {
        return rec.finished;
      },
      get finished() {
        return rec.finished;
      },
      setHeader(k: string, v: unknown) {
        if (rec.headersSent) throw headersSentError();
        validateHeaderName(k);
        validateHeaderValue(k, v as string);
        rec.record('setHeader', [k, v], () => rec.headers.set(k.toLowerCase(), { name: k, value: v }));
        return this;
      },
      getHeader(k: string) {
        return rec.headers.get(String(k).toLowerCase())?.value;
      },
      getHeaders() {
        const o = Object.create(null) as Record<string, unknown>;
        for (const [k, h] of rec.headers) o[k] = h.value;
        return o;
      },
      getHeaderNames() {
        return [...rec.headers.keys()];
      },
      hasHeader(k: string) {
        return rec.headers.has(String(k).toLowerCase());
      },
      removeHeader(k: string) {
        if (rec.headersSent) throw headersSentError();
        rec.record('removeHeader', [k], () => rec.headers.delete(String(k).toLowerCase()));
      },
      writeHead(code: number, ...rest: unknown[]) {
        noCallbacks('writeHead', rest);
        rec.record('writeHead', [code, ...rest], () => {
          rec.statusCode = code;
          rec.headersSent = true;
        });
        return this;
      },
      flushHeaders() {
        rec.record('flushHeaders', [], () => (rec.headersSent = true));
      },
      write(...args: unknown[]) {
        noCallbacks('write', args);
        rec.record('write', args, () => (rec.headersSent = true));
        return true;
      },
      // Listeners of the response's end: registered on the real response at the replay (see
      // callbacks.ts), where they fire as they would locally. Other events belong to the socket.
      on(event: string, fn: unknown) {
        return rec.listen('on', event, fn, this);
      },
      once(event: string, fn: unknown) {
        return rec.listen('once', event, fn, this);
      },
      addListener(event: string, fn: unknown) {
        return rec.listen('on', event, fn, this);
      },
      prependListener(event: string, fn: unknown) {
        return rec.listen('prependListener', event, fn, this);
      },
      prependOnceListener(event: string, fn: unknown) {
        return rec.listen('prependOnceListener', event, fn, this);
      },
      off(event: string, fn: unknown) {
        rec.unlisten(event, fn);
        return this;
      },
      removeListener(event: string, fn: unknown) {
        rec.unlisten(event, fn);
        return this;
      },
      setTimeout() {
        throw rec.refuse('res.setTimeout(): the socket is on the server');
      },
    };
    for (const name of RUN_AND_RECORD) {
      const impl = proto[name];
      if (typeof impl !== 'function') continue;
      base[name] = function (this: unknown, ...args: unknown[]) {
        return rec.record(name, args, () => impl.apply(this, args));
      };
    }
    for (const name of [...SENDING_SYNC, ...SENDING_ASYNC]) {
      base[name] = function (this: unknown, ...args: unknown[]) {
        // A view's, a file's or a download's callback runs on the server after the send (callbacks.ts).
        if (!SENDING_ASYNC.includes(name)) noCallbacks(name, args);
        if (SENDING_SYNC.includes(name) && rec.headersSent && name !== 'end') throw headersSentError();
        rec.record(name, args, () => {
          if (SENDING_SYNC.includes(name)) rec.headersSent = true;
          if (name === 'sendStatus' && typeof args[0] === 'number') rec.statusCode = args[0];
        });
        rec.finish();
        return this;
      };
    }
    if (typeof proto.format !== 'function') {
      // Without Express's prototype: the same choice Express makes, for a method-style handler.
      base.format = function (this: Record<string, (...a: unknown[]) => unknown>, obj: Record<string, (...a: unknown[]) => void>) {
        const keys = Object.keys(obj).filter((k) => k !== 'default');
        const pick = keys.length ? ((req.accepts as (t: string[]) => string | false)?.(keys) ?? keys[0]) : false;
        this.vary('Accept');
        const fn = pick ? obj[pick] : obj.default;
        if (fn) fn(req, this, req.next);
        else (req.next as (e: unknown) => void)(Object.assign(new Error('Not Acceptable'), { status: 406, statusCode: 406 }));
        return this;
      };
    }
    Object.setPrototypeOf(base, proto);
    Object.setPrototypeOf(target, init.ext ? Object.assign(Object.create(base), init.ext) : base);
    for (const [k, v] of Object.entries(init.props ?? {})) defineValue(target, k, v);
    defineValue(target, 'req', req);
    defineValue(target, 'locals', rec.locals);
    defineValue(target, 'app', req.app);
    return target;
  }
}

export function refusal(reason: string): Error {
  return WorkerErrors.REFUSED(reason);
}
