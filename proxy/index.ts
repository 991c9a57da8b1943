/**
 * `beehive/proxy`: the PostgreSQL connection proxy. The only module other folders import.
 * See proxy/README.md for the contracts (control endpoint, hand-off, shadow, pack records).
 */
export { startProxy, type ProxyHandle, type SessionKey } from './server';
export { resolveOptions, kDefaults as proxyDefaults, parseUpstreamUrl, type ProxyOptions, type ResolvedProxyOptions, type PoolMode, type ClientAuth } from './options';
export type { HandoffRequest, HandoffTicket, PoolGrant, PoolGrantRequest, FinishRequest, FinishResult } from './handoff';
export type { UpstreamConfig } from './upstream/backend';
export { createControlClient, type ControlClient } from './control-client';
export { packPg, isPgClient, isPgPool, isPgObject, mayBePg, type PackContext, type PgRecord, type PgClientRecord, type PgPoolRecord } from './pack';
export { ProxyErrors, sqlstateOf } from './errors';
