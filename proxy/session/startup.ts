/**
 * The startup phase of a client connection: SSLRequest (TLS when configured), CancelRequest,
 * StartupMessage, authentication (SCRAM-SHA-256 or trust; hand-off ids and pool grants in the user
 * name), then ParameterStatus, the client's own BackendKeyData and ReadyForQuery.
 */
import { TLSSocket } from 'node:tls';
import { Phase, type ClientSession } from './client-session';
import { ScramServer, type ScramVerifier } from '../auth/scram';
import * as be from '../wire/backend-messages';
import * as fe from '../wire/frontend-messages';
import { FrontendCode, TxStatus } from '../wire/codes';
import { ProxyErrors } from '../errors';
import { debug } from '../debug';
import { claimHandoff } from './handoff-splice';
import { adminStartup, kAdminDatabase } from './admin';
import { beginShadow } from './shadow';
import type { GrantTx } from './grant-tx';
import { kNoParams, type BackendLogin, type BackendStartup } from '../upstream/backend';

interface AuthState {
  scram: ScramServer;
  step: 0 | 1;
}

export function onStartupMessage(s: ClientSession, code: number, buf: Buffer, start: number, end: number): void {
  if (code === FrontendCode.Terminate) {
    // The client left before it logged in: a quiet close, as for a Terminate after login.
    debug('client left during startup');
    s.terminated = true;
    s.close();
    return;
  }
  try {
    if (s.phase === Phase.Startup) startupPacket(s, buf, start, end);
    else if (code === FrontendCode.Password && s.auth) saslMessage(s, buf, start, end);
    else throw ProxyErrors.PROTOCOL_VIOLATION(`unexpected message '${String.fromCharCode(code)}' during authentication`);
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('BEEHIVE_ERR_PROXY_HANDOFF')) s.ctx.stats.handoffsRejected++;
    s.fatal(err as Error);
  }
}

function startupPacket(s: ClientSession, buf: Buffer, start: number, end: number): void {
  const p = fe.decodeStartup(buf, start, end);
  const ctx = s.ctx;
  if (p.kind === 'ssl') {
    if (!ctx.tls || s.socket instanceof TLSSocket) return void s.socket.write('N');
    s.socket.write('S');
    const raw = s.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    s.bindSocket(new TLSSocket(raw, { isServer: true, secureContext: ctx.tls }));
    return;
  }
  if (p.kind === 'gssenc') return void s.socket.write('N');
  if (p.kind === 'cancel') {
    const target = ctx.sessions.find(p.processId!, p.secretKey!);
    debug('cancel request for client %d: %s', p.processId, target ? 'forwarded' : 'no match');
    target?.cancelRunning();
    s.socket.end();
    s.close();
    return;
  }
  if (p.major !== 3) throw ProxyErrors.UNSUPPORTED_PROTOCOL(`${p.major}.${p.minor}`);
  s.reader.startup = false;
  s.phase = Phase.Auth;
  const params = p.params!;
  const unknown = Object.keys(params).filter((k) => k.startsWith('_pq_.'));
  if (p.minor! > 0 || unknown.length > 0) s.send(be.negotiateProtocolVersion(0, unknown));
  s.params = params;
  if (params.replication !== undefined && params.replication !== 'false' && params.replication !== 'off' && params.replication !== '0') {
    throw ProxyErrors.REPLICATION_UNSUPPORTED('replication connections are not pooled; connect to the server itself');
  }
  s.startup = backendStartup(params);
  s.user = params.user ?? '';
  if (!s.user) throw ProxyErrors.AUTH_FAILED('no user name in the startup packet');

  let verifier: ScramVerifier | null;
  const dot = s.user.indexOf('.');
  const prefix = dot > 0 ? s.user.slice(0, dot) : '';
  // The credential first: a worker connection refused from here on is recorded on it (fatal()), so
  // that the invocation's prepare refuses to commit what its worker did without it.
  if (prefix === 'handoff' || prefix === 'grant') s.credential = ctx.handoffs.take(prefix, s.user.slice(dot + 1));
  if (ctx.closing) throw ProxyErrors.SHUTDOWN();
  if (ctx.sessions.size >= ctx.options.maxClients) throw ProxyErrors.TOO_MANY_CLIENTS(`limit ${ctx.options.maxClients}`);
  if (s.credential) verifier = s.credential.verifier;
  else if (ctx.options.auth === 'trust') verifier = null;
  else {
    verifier = ctx.verifiers.get(s.user) ?? null;
    if (!verifier) throw ProxyErrors.AUTH_FAILED(`password authentication failed for user "${s.user}"`);
  }
  if (!verifier) return authenticated(s);
  s.auth = { scram: new ScramServer(verifier), step: 0 } satisfies AuthState;
  s.send(be.authSASL(['SCRAM-SHA-256']));
}

function saslMessage(s: ClientSession, buf: Buffer, start: number, end: number): void {
  const a = s.auth as AuthState;
  if (a.step === 0) {
    const init = fe.decodeSASLInitial(buf, start, end);
    if (init.mechanism !== 'SCRAM-SHA-256') throw ProxyErrors.AUTH_UNSUPPORTED(init.mechanism);
    s.send(be.authSASLContinue(a.scram.first(init.data)));
    a.step = 1;
    return;
  }
  let final: string;
  try {
    final = a.scram.final(fe.decodeBodyString(buf, start, end));
  } catch (err) {
    throw ProxyErrors.AUTH_FAILED(`password authentication failed for user "${s.user}"`, { cause: err });
  }
  s.auth = null;
  s.send(be.authSASLFinal(final));
  authenticated(s);
}

const kShadowOption = /beehive[._]shadow=(1|on|true)\b/;

/** Startup parameters that are the proxy's business, not the server's. */
const kOwnParams = new Set(['user', 'database', 'beehive_shadow', 'replication']);

/**
 * The parameters a client's backends are opened with: everything it sent but the user and database
 * (`login`'s, or the upstream's without one), the proxy's own and protocol options (`_pq_.*`,
 * answered by NegotiateProtocolVersion), in a canonical order so that equal sets share backends.
 */
export function backendStartup(params: Record<string, string>, login?: BackendLogin): BackendStartup {
  const names = Object.keys(params)
    .filter((k) => !kOwnParams.has(k) && !k.startsWith('_pq_.'))
    .sort();
  if (names.length === 0 && !login) return kNoParams;
  const own: Record<string, string> = {};
  for (const k of names) own[k] = params[k];
  const key = names.length === 0 ? '' : JSON.stringify(names.map((k) => [k, own[k]]));
  if (!login) return { key, params: own };
  // JSON arrays delimit themselves: database and user cannot run into the parameters.
  return { key: JSON.stringify([login.database, login.user]) + key, params: own, login };
}

/**
 * The pool a client is served from: its database (one of `databases`) and, with serverUser
 * 'client', its own user. The upstream's database and user keep the plain parameter key.
 */
function loginFor(s: ClientSession, database: string): BackendLogin | undefined {
  const o = s.ctx.options;
  if (!o.databases.includes(database) && !o.databases.includes('*')) {
    const served = o.databases.map((d) => `"${d}"`).join(', ');
    throw ProxyErrors.UNKNOWN_DATABASE(`database "${database}" does not exist (this proxy serves ${served})`);
  }
  const user = o.serverUser === 'client' ? s.user : o.upstream.user;
  if (database === o.upstream.database && user === o.upstream.user) return undefined;
  // The server login's password: the upstream's for its user, else the one clients use (`users`).
  return { database, user, password: user === o.upstream.user ? o.upstream.password : o.users[user] };
}

function authenticated(s: ClientSession): void {
  const ctx = s.ctx;
  // One upstream database is served; any other name is refused as PostgreSQL refuses a database it
  // does not have (libpq's default database is the user name), after authentication as PostgreSQL
  // does. Hand-off and grant connections name a session instead.
  const database = s.params.database || s.user;
  if (!s.credential && database === kAdminDatabase && database !== ctx.options.upstream.database) {
    if (!ctx.options.adminUsers.includes(s.user)) throw ProxyErrors.ADMIN_NOT_ALLOWED(`"${s.user}" may not use the admin console (adminUsers)`);
    s.loggedIn();
    s.send(be.authOk());
    const key = ctx.sessions.register(s);
    s.processId = key.processId;
    s.secretKey = key.secretKey;
    s.admin = true;
    s.phase = Phase.Ready;
    debug('client %d: admin console', s.processId);
    s.send(adminStartup(s));
    return;
  }
  // Hand-off and grant connections are served where their session or grant is (the upstream's pool).
  if (!s.credential) {
    const login = loginFor(s, database);
    if (login) s.startup = backendStartup(s.params, login);
  }
  s.loggedIn();
  s.send(be.authOk());
  const key = ctx.sessions.register(s);
  s.processId = key.processId;
  s.secretKey = key.secretKey;
  s.phase = Phase.Attaching;
  const shadow =
    !!s.credential?.shadow || ['1', 'on', 'true'].includes(s.params.beehive_shadow ?? '') || kShadowOption.test(s.params.options ?? '');
  debug('client %d authenticated as %s%s', s.processId, s.user, shadow ? ' (shadow)' : '');
  if (s.credential?.kind === 'handoff') return claimHandoff(s, s.credential, shadow, finishStartup);
  const grant = s.credential?.grantTx;
  if (grant && !shadow) {
    // Served by the grant's one backend and transaction, whatever the pool mode.
    s.grant = grant as GrantTx;
    s.grant.join(s);
  } else if (s.mode === 'session' || shadow) {
    return s.acquire(() => {
      if (shadow) beginShadow(s);
      finishStartup(s);
    });
  }
  // Its parameters checked by the server once (an invalid value is refused as PostgreSQL refuses
  // it), and their ParameterStatus known.
  if (ctx.pool.serverParams(s.startup)) return finishStartup(s);
  ctx.pool.warm(s.startup).then(
    () => finishStartup(s),
    (err: Error) => s.fatal(err),
  );
}

/** ParameterStatus, BackendKeyData and ReadyForQuery: the client may start. */
export function finishStartup(s: ClientSession): void {
  if (s.phase !== Phase.Attaching) return;
  const params = s.backend?.params ?? s.ctx.pool.serverParams(s.startup) ?? new Map<string, string>();
  // A session served by one backend for its whole life is known by that backend's pid, as on PostgreSQL.
  if (s.mode === 'session' && s.backend && !s.credential && !s.grant && s.ctx.sessions.rekey(s, s.backend.pid)) {
    debug('client %d takes its backend\'s pid', s.processId);
  }
  const parts: Buffer[] = [];
  for (const [k, v] of params) parts.push(be.parameterStatus(k, v));
  parts.push(be.backendKeyData(s.processId, s.secretKey));
  // Shadow and deferred sessions show the status the client expects, not the real one.
  const status = s.shadow ? (s.shadow.depth > 0 ? TxStatus.InTransaction : TxStatus.Idle) : (s.backend?.txStatus ?? TxStatus.Idle);
  parts.push(be.readyForQuery(status));
  s.send(Buffer.concat(parts));
  s.phase = Phase.Ready;
  // The relay phase: reads go straight into the connection's own buffer from now on.
  if (!s.input.goDirect()) debug('client %d: reads through the socket stream', s.processId);
  s.drainStash();
}
