/**
 * What an offloaded handler gets as `req` and `res`: `req` is the server's snapshot (method, url,
 * params, query, body, headers, cookies, ip, what middleware attached) with Express's request
 * helpers; `res` records every call, and the server replays them on the real response.
 */
export interface ReqSnapshot {
  props: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  app: { locals: Record<string, unknown>; settings: Record<string, unknown> };
}

export interface ResInit {
  locals: Record<string, unknown>;
  statusCode: number;
  headers: Record<string, unknown>;
}

export type ResCall = [string, ...unknown[]];

const tryRequire = (name: string): unknown => {
  try {
    return require(name);
  } catch {
    return undefined;
  }
};

/** The server's Express app as a handler may use it: settings and locals (the server's own objects). */
export function makeAppView(snap: { locals: Record<string, unknown>; settings: Record<string, unknown> }): Record<string, unknown> {
  const app = Object.create({
    get(this: { settings: Record<string, unknown> }, name: string) {
      return this.settings[name];
    },
    enabled(this: { settings: Record<string, unknown> }, name: string) {
      return Boolean(this.settings[name]);
    },
    disabled(this: { settings: Record<string, unknown> }, name: string) {
      return !this.settings[name];
    },
  });
  app.locals = snap.locals;
  app.settings = snap.settings;
  return app;
}

export function makeRequest(snap: ReqSnapshot): Record<string, unknown> {
  const headers = snap.headers;
  const app = makeAppView(snap.app);
  const proto = {
    get(name: string) {
      const n = String(name).toLowerCase();
      if (n === 'referer' || n === 'referrer') return headers.referer ?? headers.referrer;
      return headers[n];
    },
    header(name: string) {
      return proto.get(name);
    },
    is(this: { headers: typeof headers }, ...types: Array<string | string[]>) {
      const typeis = tryRequire('type-is') as ((req: unknown, types: string[]) => string | false | null) & { is?: unknown };
      const flat = types.flat();
      if (typeof typeis === 'function') return typeis({ headers: this.headers }, flat);
      const ct = String(headers['content-type'] ?? '').split(';')[0].trim();
      return flat.find((t) => ct === t || ct.endsWith('/' + t) || ct.includes(t)) ?? false;
    },
    accepts(this: { headers: typeof headers }, ...types: Array<string | string[]>) {
      const accepts = tryRequire('accepts') as ((req: unknown) => { types(...t: string[]): unknown }) | undefined;
      if (!accepts) return types.flat()[0];
      return accepts({ headers: this.headers }).types(...types.flat());
    },
    param(this: Record<string, Record<string, unknown>>, name: string, dflt?: unknown) {
      return this.params?.[name] ?? this.body?.[name] ?? this.query?.[name] ?? dflt;
    },
  };
  const req = Object.create(proto) as Record<string, unknown>;
  Object.assign(req, snap.props);
  req.headers = headers;
  req.app = app;
  return req;
}

/** The response recorder. `done` resolves when the handler has ended the response or called next. */
export class ResponseRecorder {
  readonly calls: ResCall[] = [];
  finished = false;
  statusCode: number;
  readonly locals: Record<string, unknown>;
  private readonly headers = new Map<string, unknown>();
  private onDone?: () => void;
  readonly done = new Promise<void>((resolve) => (this.onDone = resolve));
  readonly res: Record<string, unknown>;

  constructor(init: ResInit, req: Record<string, unknown>) {
    this.statusCode = init.statusCode;
    this.locals = init.locals;
    for (const [k, v] of Object.entries(init.headers ?? {})) this.headers.set(k.toLowerCase(), v);
    this.res = this.build(req);
  }

  finish(): void {
    this.finished = true;
    this.onDone?.();
  }

  private build(req: Record<string, unknown>): Record<string, unknown> {
    const rec = this;
    const record = (name: string, args: unknown[]) => rec.calls.push([name, ...args]);
    const ending = (name: string) =>
      function (this: unknown, ...args: unknown[]) {
        record(name, args.filter((a) => typeof a !== 'function'));
        rec.finish();
        return this;
      };
    const setHeader = (k: string, v: unknown) => {
      rec.headers.set(k.toLowerCase(), v);
    };
    const res: Record<string, unknown> = {
      req,
      locals: rec.locals,
      get statusCode() {
        return rec.statusCode;
      },
      set statusCode(v: number) {
        rec.statusCode = v;
        record('statusCode=', [v]);
      },
      get headersSent() {
        return rec.finished;
      },
      get writableEnded() {
        return rec.finished;
      },
      status(code: number) {
        rec.statusCode = code;
        record('status', [code]);
        return res;
      },
      set(field: string | Record<string, unknown>, value?: unknown) {
        if (typeof field === 'object') for (const [k, v] of Object.entries(field)) setHeader(k, v);
        else setHeader(field, value);
        record('set', value === undefined ? [field] : [field, value]);
        return res;
      },
      header(field: string | Record<string, unknown>, value?: unknown) {
        return (res.set as (f: unknown, v: unknown) => unknown)(field, value);
      },
      setHeader(k: string, v: unknown) {
        setHeader(k, v);
        record('setHeader', [k, v]);
        return res;
      },
      append(k: string, v: unknown) {
        record('append', [k, v]);
        const prev = rec.headers.get(k.toLowerCase());
        setHeader(k, prev === undefined ? v : ([] as unknown[]).concat(prev, v));
        return res;
      },
      get(k: string) {
        return rec.headers.get(String(k).toLowerCase());
      },
      getHeader(k: string) {
        return rec.headers.get(String(k).toLowerCase());
      },
      getHeaders() {
        return Object.fromEntries(rec.headers);
      },
      hasHeader(k: string) {
        return rec.headers.has(String(k).toLowerCase());
      },
      removeHeader(k: string) {
        rec.headers.delete(k.toLowerCase());
        record('removeHeader', [k]);
      },
      type(t: string) {
        record('type', [t]);
        setHeader('content-type', t);
        return res;
      },
      contentType(t: string) {
        return (res.type as (t: string) => unknown)(t);
      },
      location(url: string) {
        record('location', [url]);
        setHeader('location', url);
        return res;
      },
      cookie(...args: unknown[]) {
        record('cookie', args);
        return res;
      },
      clearCookie(...args: unknown[]) {
        record('clearCookie', args);
        return res;
      },
      attachment(...args: unknown[]) {
        record('attachment', args);
        return res;
      },
      vary(f: string) {
        record('vary', [f]);
        return res;
      },
      links(l: unknown) {
        record('links', [l]);
        return res;
      },
      write(chunk: unknown, enc?: unknown) {
        record('write', typeof enc === 'string' ? [chunk, enc] : [chunk]);
        return true;
      },
      writeHead(code: number, ...rest: unknown[]) {
        rec.statusCode = code;
        record('writeHead', [code, ...rest.filter((a) => typeof a !== 'function')]);
        return res;
      },
      json: ending('json'),
      jsonp: ending('jsonp'),
      send: ending('send'),
      end: ending('end'),
      sendStatus: ending('sendStatus'),
      redirect: ending('redirect'),
      // Rendered and sent by the server: views, files and template engines stay where they are.
      render: ending('render'),
      sendFile: ending('sendFile'),
      download: ending('download'),
      format(obj: Record<string, () => void>) {
        const keys = Object.keys(obj).filter((k) => k !== 'default');
        const pick = (req.accepts as (t: string[]) => string | false)(keys);
        const fn = pick ? obj[pick] : obj.default;
        (res.vary as (f: string) => void)('Accept');
        if (pick) (res.set as (k: string, v: string) => void)('Content-Type', pick);
        if (fn) fn.call(res);
        else (res.sendStatus as (c: number) => void)(406);
        return res;
      },
      on() {
        return res;
      },
      once() {
        return res;
      },
    };
    return res;
  }
}
