/**
 * The admin console, as PgBouncer's: a client that connects to the special database `pgbouncer`
 * (an admin user, `adminUsers`) talks to the proxy itself in simple queries —
 * `SHOW POOLS|CLIENTS|SERVERS|STATS|CONFIG`, `PAUSE`, `RESUME`, `RELOAD`. Anything else gets a coded
 * error and the session goes on.
 */
import type { ClientSession } from './client-session';
import { FrontendCode, TxStatus } from '../wire/codes';
import * as be from '../wire/backend-messages';
import * as fe from '../wire/frontend-messages';
import { ProxyErrors, sqlstateOf } from '../errors';
import type { ProxyContext } from '../context';

/** The database name that reaches the console (PgBouncer's, so that its tools work). */
export const kAdminDatabase = 'pgbouncer';

type Rows = { columns: string[]; rows: Array<Array<string | number | boolean | null>> };

export interface AdminHooks {
  /** RELOAD: re-reads the configuration file; resolves with what changed. */
  reload(): Promise<{ changed: string[]; restartNeeded: string[] }>;
}

/** ParameterStatus an admin session gets (there is no server behind it). */
const kAdminParams: Array<[string, string]> = [
  ['application_name', ''],
  ['client_encoding', 'UTF8'],
  ['DateStyle', 'ISO, MDY'],
  ['integer_datetimes', 'on'],
  ['server_encoding', 'UTF8'],
  ['server_version', '18.0 (beehive proxy admin console)'],
  ['standard_conforming_strings', 'on'],
];

/** Startup answer of an admin session: its parameters, its key, ReadyForQuery. */
export function adminStartup(s: ClientSession): Buffer {
  const parts = kAdminParams.map(([k, v]) => be.parameterStatus(k, v));
  parts.push(be.backendKeyData(s.processId, s.secretKey), be.readyForQuery(TxStatus.Idle));
  return Buffer.concat(parts);
}

/** One message of an admin session. */
export function onAdminMessage(s: ClientSession, code: number, buf: Buffer, start: number, end: number): void {
  switch (code) {
    case FrontendCode.Query:
      return runQuery(s, fe.decodeQuery(buf, start, end));
    case FrontendCode.Terminate:
      s.terminated = true;
      return s.close();
    case FrontendCode.Sync:
      // The end of a refused extended-protocol batch.
      s.adminFailed = false;
      return s.send(be.readyForQuery(TxStatus.Idle));
    case FrontendCode.Flush:
      return;
    default:
      if (!s.adminFailed) {
        s.adminFailed = true;
        sendError(s, ProxyErrors.ADMIN_UNSUPPORTED('the admin console takes simple queries only (no extended protocol, COPY or function calls)'));
      }
  }
}

function sendError(s: ClientSession, err: Error): void {
  s.send(be.errorResponse({ severity: 'ERROR', code: sqlstateOf(err), message: err.message }));
}

/** Runs each command of a simple query in turn (an error ends the rest, as PostgreSQL does), then ReadyForQuery. */
function runQuery(s: ClientSession, sql: string): void {
  const commands = sql
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  if (commands.length === 0) {
    s.send(Buffer.concat([Buffer.from([0x49, 0, 0, 0, 4]) /* EmptyQueryResponse */, be.readyForQuery(TxStatus.Idle)]));
    return;
  }
  // Commands answer in order; PAUSE and RELOAD may take a while, and the session waits for them.
  let chain = Promise.resolve(true);
  for (const c of commands) {
    chain = chain.then((ok) => (ok ? runOne(s, c) : false));
  }
  void chain.then(() => s.send(be.readyForQuery(TxStatus.Idle)));
}

async function runOne(s: ClientSession, command: string): Promise<boolean> {
  const words = command.toLowerCase().split(/\s+/);
  try {
    if (words[0] === 'show' && words.length === 2) {
      const table = show(s.ctx, words[1]);
      s.send(Buffer.concat([be.rowDescription(table.columns), ...table.rows.map((r) => be.dataRow(r.map(text))), be.commandComplete('SHOW')]));
      return true;
    }
    if (words.length === 1 && words[0] === 'pause') {
      await s.ctx.pool.pause();
      s.send(be.commandComplete('PAUSE'));
      return true;
    }
    if (words.length === 1 && words[0] === 'resume') {
      if (!s.ctx.pool.isPaused) throw ProxyErrors.ADMIN_BAD_STATE('the proxy is not paused');
      s.ctx.pool.resume();
      s.send(be.commandComplete('RESUME'));
      return true;
    }
    if (words.length === 1 && words[0] === 'reload') {
      if (!s.ctx.admin) throw ProxyErrors.CONFIG_MISSING('no configuration file to reload');
      const r = await s.ctx.admin.reload();
      const notes = [];
      if (r.changed.length > 0) notes.push(`changed: ${r.changed.join(', ')}`);
      if (r.restartNeeded.length > 0) notes.push(`kept until a restart: ${r.restartNeeded.join(', ')}`);
      if (notes.length > 0) s.send(be.errorResponse({ severity: 'NOTICE', code: '00000', message: `reloaded; ${notes.join('; ')}` }, true));
      s.send(be.commandComplete('RELOAD'));
      return true;
    }
    throw ProxyErrors.ADMIN_UNKNOWN_COMMAND(`"${command.slice(0, 200)}" (SHOW POOLS|CLIENTS|SERVERS|STATS|CONFIG, PAUSE, RESUME, RELOAD)`);
  } catch (err) {
    sendError(s, err as Error);
    return false;
  }
}

const text = (v: string | number | boolean | null): string | null => (v === null ? null : String(v));

function show(ctx: ProxyContext, what: string): Rows {
  const mode = ctx.options.poolMode;
  const db = ctx.options.upstream.database;
  switch (what) {
    case 'pools':
      return {
        columns: ['database', 'user', 'parameters', 'cl_active', 'cl_waiting', 'sv_active', 'sv_idle', 'sv_login', 'pool_mode', 'paused'],
        rows: ctx.pool.describe().map((p) => {
          let active = 0;
          let waiting = 0;
          for (const c of ctx.sessions.all()) {
            if (c.admin || c.startup.key !== p.key) continue;
            if (c.backend) active++;
            else if (c.waitingForBackend) waiting++;
          }
          return [p.database, p.user, JSON.stringify(p.params), active, waiting, p.active, p.idle, p.connecting, mode, ctx.pool.isPaused];
        }),
      };
    case 'clients':
      return {
        columns: ['pid', 'user', 'database', 'state', 'addr', 'port', 'connect_time', 'application_name', 'pinned', 'server_pid', 'kind'],
        rows: [...ctx.sessions.all()].map((c) => [
          c.processId,
          c.user,
          c.admin ? kAdminDatabase : c.params.database || c.user,
          c.admin ? 'admin' : c.backend ? 'active' : c.waitingForBackend ? 'waiting' : 'idle',
          c.socket.remoteAddress ?? null,
          c.socket.remotePort ?? null,
          new Date(c.connectedAt).toISOString(),
          c.params.application_name ?? '',
          c.pinned,
          c.backend?.pid ?? null,
          c.admin ? 'admin' : (c.credential?.kind ?? 'client'),
        ]),
      };
    case 'servers':
      return {
        columns: ['id', 'pid', 'database', 'user', 'state', 'parameters', 'connect_time', 'client_pid', 'prepared_statements', 'tx_status'],
        rows: [...ctx.pool.all].map((b) => {
          const owner = b.owner as { processId?: number } | null;
          return [b.id, b.pid, b.config.database, b.config.user, b.owner ? 'active' : 'idle', JSON.stringify(b.startup.params), new Date(b.connectedAt).toISOString(), owner?.processId ?? null, b.prepared.size, String.fromCharCode(b.txStatus)];
        }),
      };
    case 'stats': {
      const st = ctx.stats;
      const errors = [...st.errors.values()].reduce((a, b) => a + b, 0);
      return {
        columns: ['database', 'total_client_connections', 'clients', 'total_received', 'total_sent', 'total_pool_waits', 'pool_waiting', 'total_errors', 'handoffs_claimed', 'shadow_sessions_total'],
        rows: [[db, st.clientsTotal, ctx.sessions.size, st.bytesFromClients, st.bytesToClients, ctx.pool.waitsTotal, ctx.pool.waiting, errors, st.handoffsClaimed, st.shadowTotal]],
      };
    }
    case 'config': {
      const o = ctx.options;
      const rows: Array<[string, string | number | boolean | null]> = [
        ['listen', `${o.listen.host}:${o.listen.port}`],
        ['upstream', `postgres://${o.upstream.user}@${o.upstream.host}:${o.upstream.port}/${o.upstream.database}`],
        ['poolMode', o.poolMode],
        ['maxBackends', o.maxBackends],
        ['maxClients', o.maxClients],
        ['auth', o.auth],
        ['users', Object.keys(o.users).sort().join(',')],
        ['adminUsers', o.adminUsers.join(',')],
        ['databases', o.databases.join(',')],
        ['serverUser', o.serverUser],
        ['tls', o.tls !== null],
        ['control', o.control ? `${o.control.host}:${o.control.port}` : null],
        ['handoffTtlMs', o.handoffTtlMs],
        ['acquireTimeoutMs', o.acquireTimeoutMs],
        ['connectTimeoutMs', o.connectTimeoutMs],
        ['idleTimeoutMs', o.idleTimeoutMs],
        ['maxMessageSize', o.maxMessageSize],
        ['cleanupTimeoutMs', o.cleanupTimeoutMs],
        ['loginTimeoutMs', o.loginTimeoutMs],
        ['configFile', o.configFile],
      ];
      return { columns: ['key', 'value'], rows };
    }
    default:
      throw ProxyErrors.ADMIN_UNKNOWN_COMMAND(`SHOW ${what} (SHOW POOLS|CLIENTS|SERVERS|STATS|CONFIG)`);
  }
}
