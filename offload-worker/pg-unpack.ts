/**
 * A pg record (protocol/pg-records.ts) becomes a real pg object connected through the BeeHive
 * proxy: a Client continues the server's session (a hand-off), a Pool is served by a grant. pg
 * itself comes from the app's dependencies.
 */
import { debuglog } from 'node:util';
import { checkPgRecord } from '../protocol';

const debug = debuglog('beehive:worker');

interface PgModule {
  Client: new (config: Record<string, unknown>) => { connect(): Promise<void>; end(): Promise<void> } & Record<string, unknown>;
  Pool: new (config: Record<string, unknown>) => unknown;
}

/**
 * Builds the worker's pg object from a record. A Client is returned with `connect()` already under
 * way (pg queues queries until it is ready); `await client.connected` to see a connection error early.
 */
export function unpackPg(record: unknown, deps: { pg: unknown }): unknown {
  const r = checkPgRecord(record);
  const pg = deps.pg as PgModule;
  const config = { host: r.host, port: r.port, database: r.database, user: r.user, password: r.password ?? 'none' };
  if (r.unpacker === 'pg.Client') {
    const client = new pg.Client(config);
    // The proxy closing the connection (finish, restart, shutdown) emits 'error' on an idle client:
    // without a listener that would kill the worker. Queries in flight still fail with the error.
    onError(client, 'client');
    const connected = client.connect();
    connected.catch(() => {}); // surfaced by queries and by `connected`
    Object.defineProperty(client, 'connected', { value: connected });
    if (r.poolClient) Object.defineProperty(client, 'release', { value: () => void client.end().catch(() => {}), configurable: true });
    return client;
  }
  const pool = new pg.Pool({ ...config, ...(r.max ? { max: r.max } : {}) });
  // pg.Pool re-emits an idle client's error on the pool: the same reason as above.
  onError(pool, 'pool');
  return pool;
}

function onError(emitter: unknown, what: string): void {
  const e = emitter as { on?: (ev: string, fn: (err: Error) => void) => void };
  e.on?.('error', (err) => debug('unpacked pg %s: %s', what, err.message));
}
