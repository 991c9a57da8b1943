/**
 * A request's session as it travels (express-session's or cookie-session's): the server ships a
 * snapshot (agent/offload/2-session-snapshot.ts), the worker hands the handler a session built from it
 * (offload-worker/session-shims.ts) and sends back the steps the server then carries out in order
 * on the real session at the commit point.
 */
export type SessionSnapshot =
  | { kind: 'express-session'; id: string; data: Record<string, unknown>; cookie: Record<string, unknown>; cookieProto: object }
  | {
      kind: 'cookie-session';
      data: Record<string, unknown> | null;
      isNew: boolean;
      changed: boolean;
      /** `req.sessionOptions`: its own fields and the middleware's defaults it inherits. */
      options: { own: Record<string, unknown>; inherited: Record<string, unknown> };
    };

export interface SessionDiff {
  set: Array<[string, unknown]>;
  del: string[];
  cookie?: { set: Array<[string, unknown]>; del: string[] };
}

export type SessionStep = ['data', SessionDiff] | ['save'] | ['destroy'] | ['regenerate'] | ['replace', Record<string, unknown> | null] | ['options', SessionDiff];
