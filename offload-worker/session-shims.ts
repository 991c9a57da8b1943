/**
 * Sessions on the worker. The server ships the request's session as data (express-session's or
 * cookie-session's); the handler gets an object that behaves as the middleware's own (its methods,
 * its getters), and its changes come back as steps the server carries out in order on the real
 * session at the commit point: data written, then `save`, `regenerate` or `destroy` against the
 * server's store. A store is never reached from the worker.
 */
import type { SessionDiff, SessionSnapshot, SessionStep } from '../protocol';

export type { SessionDiff, SessionSnapshot, SessionStep } from '../protocol';

type Refuse = (reason: string) => Error;
type Later = (fn: () => void) => void;

const hidden = (o: object, k: string, value: unknown) => Object.defineProperty(o, k, { value, writable: true, configurable: true, enumerable: false });
const refusing = (o: object, k: string, refuse: Refuse, reason: string) =>
  Object.defineProperty(o, k, {
    configurable: true,
    enumerable: false,
    get() {
      throw refuse(reason);
    },
  });

function ownData(o: Record<string, unknown>, skip?: string): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const k of Object.keys(o)) if (k !== skip) m.set(k, o[k]);
  return m;
}

function diffData(cur: Record<string, unknown>, base: Map<string, unknown>, skip?: string): { set: Array<[string, unknown]>; del: string[] } {
  const set: Array<[string, unknown]> = [];
  const del: string[] = [];
  for (const k of Object.keys(cur)) if (k !== skip && (!base.has(k) || !Object.is(base.get(k), cur[k]))) set.push([k, cur[k]]);
  for (const k of base.keys()) if (!Object.prototype.hasOwnProperty.call(cur, k)) del.push(k);
  return { set, del };
}

/** Installs `req.session` on the worker's request; `steps()` says what the handler did to it. */
export function attachSession(req: Record<string, unknown>, snap: SessionSnapshot, refuse: Refuse, later: Later): { steps(): SessionStep[] } {
  return snap.kind === 'express-session' ? expressSession(req, snap, refuse, later) : cookieSession(req, snap, refuse);
}

function expressSession(req: Record<string, unknown>, snap: Extract<SessionSnapshot, { kind: 'express-session' }>, refuse: Refuse, later: Later): { steps(): SessionStep[] } {
  const steps: SessionStep[] = [];
  let base = new Map<string, unknown>();
  let cookieBase = new Map<string, unknown>();
  const proto = {};
  const make = (data: Record<string, unknown>, cookie: Record<string, unknown>, id: string | undefined) => {
    const s = Object.create(proto) as Record<string, unknown>;
    hidden(s, 'req', req);
    if (id === undefined) refusing(s, 'id', refuse, 'reads the id of a regenerated session (the server\'s store makes it)');
    else hidden(s, 'id', id);
    Object.assign(s, data);
    s.cookie = Object.assign(Object.create(snap.cookieProto), cookie);
    base = ownData(s, 'cookie');
    cookieBase = ownData(s.cookie as Record<string, unknown>);
    return s;
  };
  const checkpoint = () => {
    const s = req.session as Record<string, unknown> | undefined;
    if (!s || typeof s !== 'object') return;
    const d: SessionDiff = diffData(s, base, 'cookie');
    const c = s.cookie && typeof s.cookie === 'object' ? diffData(s.cookie as Record<string, unknown>, cookieBase) : { set: [], del: [] };
    if (c.set.length || c.del.length) d.cookie = c;
    if (d.set.length || d.del.length || d.cookie) steps.push(['data', d]);
    base = ownData(s, 'cookie');
    if (s.cookie && typeof s.cookie === 'object') cookieBase = ownData(s.cookie as Record<string, unknown>);
  };
  const method = (name: string, fn: (this: Record<string, unknown>, ...a: unknown[]) => unknown) => hidden(proto, name, fn);
  method('touch', function () {
    return (this.resetMaxAge as () => unknown)();
  });
  method('resetMaxAge', function () {
    const c = this.cookie as Record<string, unknown>;
    c.maxAge = c.originalMaxAge;
    return this;
  });
  method('save', function (fn?: unknown) {
    checkpoint();
    steps.push(['save']);
    later(() => typeof fn === 'function' && fn());
    return this;
  });
  method('reload', function () {
    throw refuse("req.session.reload() reads the server's session store");
  });
  method('destroy', function (fn?: unknown) {
    checkpoint();
    steps.push(['destroy']);
    delete req.session;
    later(() => typeof fn === 'function' && fn());
    return this;
  });
  method('regenerate', function (this: Record<string, unknown>, fn?: unknown) {
    checkpoint();
    steps.push(['regenerate']);
    const cookie = Object.fromEntries(ownData(this.cookie as Record<string, unknown>));
    later(() => {
      req.session = make({}, cookie, undefined);
      refusing(req, 'sessionID', refuse, "reads the id of a regenerated session (the server's store makes it)");
      if (typeof fn === 'function') fn();
    });
    return this;
  });
  req.session = make(snap.data, snap.cookie, snap.id);
  refusing(req, 'sessionStore', refuse, "req.sessionStore is the server's session store");
  return {
    steps() {
      checkpoint();
      return steps;
    },
  };
}

function cookieSession(req: Record<string, unknown>, snap: Extract<SessionSnapshot, { kind: 'cookie-session' }>, refuse: Refuse): { steps(): SessionStep[] } {
  const initialJson = JSON.stringify(snap.data);
  const proto = {};
  const ctx = new WeakMap<object, { isNew: boolean }>();
  Object.defineProperties(proto, {
    isNew: {
      get(this: object) {
        return ctx.get(this)?.isNew ?? true;
      },
    },
    isChanged: {
      get(this: object) {
        const c = ctx.get(this);
        return !c || c.isNew || snap.changed || JSON.stringify(this) !== initialJson;
      },
    },
    isPopulated: {
      get(this: object) {
        return Object.keys(this).length > 0;
      },
    },
  });
  const make = (data: Record<string, unknown>, isNew: boolean) => {
    const s = Object.assign(Object.create(proto), data) as Record<string, unknown>;
    ctx.set(s, { isNew });
    return s;
  };
  const first = snap.data === null ? null : make(snap.data, snap.isNew);
  let cur: Record<string, unknown> | null = first;
  let replaced = false;
  Object.defineProperty(req, 'session', {
    configurable: true,
    enumerable: true,
    get: () => cur,
    set: (v: unknown) => {
      if (v == null) cur = null;
      else if (typeof v === 'object') cur = make({ ...(v as Record<string, unknown>) }, true);
      else throw new Error('req.session can only be set as null or an object.');
      replaced = true;
    },
  });
  void refuse;
  const options = Object.assign(Object.create(snap.options.inherited), snap.options.own) as Record<string, unknown>;
  Object.defineProperty(req, 'sessionOptions', { value: options, writable: true, enumerable: true, configurable: true });
  return {
    steps() {
      const out: SessionStep[] = [];
      const o = diffData(options, ownData(snap.options.own));
      if (o.set.length || o.del.length) out.push(['options', o]);
      if (replaced) out.push(['replace', cur ? { ...cur } : null]);
      else if (first) {
        const d = diffData(first, ownData(snap.data ?? {}));
        if (d.set.length || d.del.length) out.push(['data', d]);
      }
      return out;
    },
  };
}
