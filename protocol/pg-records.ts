/**
 * The records a pg `Client`, `PoolClient` or `Pool` travels as: the proxy's packer (proxy/pack.ts)
 * writes them on the server, the worker's unpacker (offload-worker/pg-unpack.ts) reads them. Plain
 * JSON, versioned by `v`; proxy/README.md ("Pack records") shows both.
 */
import { defineErrors } from './errors';

export interface PgClientRecord {
  unpacker: 'pg.Client';
  v: 1;
  host: string;
  port: number;
  database: string;
  /** `handoff.<id>` */
  user: string;
  /** The capability, when the hand-off is bound to one. */
  password?: string;
  /** The packed object was a pool's client: the unpacked one gets a `release()`. */
  poolClient: boolean;
  /** Present (the hand-off id) when the hand-off defers its commit: the agent finishes it with this id. */
  handoffId?: string;
}

export interface PgPoolRecord {
  unpacker: 'pg.Pool';
  v: 1;
  host: string;
  port: number;
  database: string;
  /** `grant.<id>` */
  user: string;
  password?: string;
  max?: number;
  /** Present (the grant id) when the grant defers its commit: the agent finishes it with this id. */
  grantId?: string;
}

export type PgRecord = PgClientRecord | PgPoolRecord;

/** A record that is not one of the above: the proxy's code (docs/errors/proxy.md), whichever side reads it. */
export const PgRecordErrors = defineErrors('PROXY', {
  BAD_RECORD: ['BEEHIVE_ERR_PROXY_BAD_RECORD', 'bad packed pg record'],
});

/** The record, checked: a version, host, port and user, and a known unpacker. */
export function checkPgRecord(record: unknown): PgRecord {
  const r = record as PgRecord;
  if (!r || typeof r !== 'object' || r.v !== 1 || typeof r.host !== 'string' || !Number.isInteger(r.port) || typeof r.user !== 'string') {
    throw PgRecordErrors.BAD_RECORD('missing host, port, user or version');
  }
  if (r.unpacker !== 'pg.Client' && r.unpacker !== 'pg.Pool') throw PgRecordErrors.BAD_RECORD(`unknown unpacker ${String((r as { unpacker?: unknown }).unpacker)}`);
  return r;
}
