import type { Request } from 'express';
import { ChannelErrors, type SessionDiff, type SessionSnapshot, type SessionStep } from '../../protocol';

type Sess = Record<string, unknown> & { cookie?: Record<string, unknown> };

/** express-session's Session: `req` and `id` as hidden own properties, the store on the request. */
function isExpressSession(req: Record<string, unknown>, s: unknown): s is Sess {
  if (!s || typeof s !== 'object' || !req.sessionStore || typeof req.sessionID !== 'string') return false;
  const d = Object.getOwnPropertyDescriptor(s, 'req');
  return !!d && !d.enumerable && typeof (s as Sess).regenerate === 'function' && typeof (s as Sess).save === 'function' && !!(s as Sess).cookie;
}

/** cookie-session: `req.session` is an own accessor and the options sit on `req.sessionOptions`. */
function isCookieSession(req: Record<string, unknown>): boolean {
  const d = Object.getOwnPropertyDescriptor(req, 'session');
  return !!d && typeof d.get === 'function' && !!req.sessionOptions;
}

/**
 * The request's session as data for the worker: its own fields (values by identity) and, for
 * express-session, its cookie's fields and the cookie's prototype (a module reference). The store,
 * the request and the middleware's closures stay here.
 */
export function snapshotSession(req: Request): SessionSnapshot | undefined {
  const r = req as unknown as Record<string, unknown>;
  if (isCookieSession(r)) {
    const s = r.session as Sess | null;
    // The options object inherits the middleware's: the worker gets both layers as data.
    const o = r.sessionOptions as Record<string, unknown>;
    const inherited: Record<string, unknown> = {};
    for (const k in o) if (!Object.prototype.hasOwnProperty.call(o, k)) inherited[k] = o[k];
    const options = { own: { ...o }, inherited };
    if (s === null) return { kind: 'cookie-session', data: null, isNew: true, changed: true, options };
    return { kind: 'cookie-session', data: { ...s }, isNew: !!s.isNew, changed: !!s.isChanged && !s.isNew, options };
  }
  const s = r.session;
  if (!isExpressSession(r, s)) return undefined;
  const data: Record<string, unknown> = {};
  for (const k of Object.keys(s)) if (k !== 'cookie') data[k] = s[k];
  const cookie = s.cookie as Record<string, unknown>;
  return { kind: 'express-session', id: r.sessionID as string, data, cookie: { ...cookie }, cookieProto: Object.getPrototypeOf(cookie) };
}

function applyDiff(target: Record<string, unknown>, d: { set: Array<[string, unknown]>; del: string[] }): void {
  if (!Array.isArray(d?.set) || !Array.isArray(d?.del)) throw ChannelErrors.MALFORMED('session change must have set and del');
  for (const [k, v] of d.set) {
    if (typeof k !== 'string' || k === '__proto__') throw ChannelErrors.MALFORMED('session key must be a string');
    target[k] = v;
  }
  for (const k of d.del) delete target[k as string];
}

const call = (fn: (cb: (err?: unknown) => void) => unknown) =>
  new Promise<void>((resolve, reject) => {
    fn((err) => (err ? reject(err) : resolve()));
  });

/**
 * Carries out the worker's session steps on the real session, in order, at the commit point: the
 * data first, then the store operations (`save`, `regenerate`, `destroy`) against the server's own
 * store, so that express-session's end-of-response save sees the same session as a local run.
 */
export async function applySession(req: Request, steps: unknown): Promise<void> {
  if (!Array.isArray(steps)) throw ChannelErrors.MALFORMED('session steps must be a list');
  const r = req as unknown as Record<string, unknown>;
  for (const step of steps as SessionStep[]) {
    const sess = () => {
      const s = r.session as Sess | undefined;
      if (!s || typeof s !== 'object') throw ChannelErrors.MALFORMED('session step without a session');
      return s;
    };
    switch (step?.[0]) {
      case 'data': {
        const d = step[1] as SessionDiff;
        const s = sess();
        applyDiff(s, d);
        if (d.cookie) applyDiff(s.cookie as Record<string, unknown>, d.cookie);
        break;
      }
      case 'save':
        await call((cb) => (sess().save as (cb: unknown) => void)(cb));
        break;
      case 'regenerate':
        await call((cb) => (sess().regenerate as (cb: unknown) => void)(cb));
        break;
      case 'destroy':
        await call((cb) => (sess().destroy as (cb: unknown) => void)(cb));
        break;
      case 'replace':
        r.session = step[1];
        break;
      case 'options':
        applyDiff(r.sessionOptions as Record<string, unknown>, step[1] as SessionDiff);
        break;
      default:
        throw ChannelErrors.MALFORMED(`unknown session step '${String(step?.[0])}'`);
    }
  }
}
