import Module from 'node:module';
import path from 'node:path';
import { ChannelErrors, nodeSymbolByName, type DecodeHooks } from '../../protocol';
import type { Lease } from '../../gc';
import { symbolById } from '../capture/symbols';

/**
 * Decoding what a worker sends back: references resolve to the real objects — only those leased to
 * the invocation — and module records to the server's own modules. A worker cannot send code.
 */
export function serverDecodeHooks(lease: Lease): DecodeHooks {
  return {
    ref: (id) => {
      const o = lease.get(id);
      if (!o) throw ChannelErrors.FORBIDDEN(`object ${id}`);
      return o;
    },
    createFunction: () => {
      throw ChannelErrors.FORBIDDEN('a worker cannot send functions');
    },
    custom: (tag, data) => {
      if (tag === 'global' && Array.isArray(data)) {
        let v: unknown = globalThis;
        for (const k of data) v = (v as Record<string, unknown>)?.[String(k)];
        return v;
      }
      if (tag === 'module' && data && typeof (data as { spec?: unknown }).spec === 'string') {
        const { spec, path: p } = data as { spec: string; path?: unknown[] };
        let v: unknown = loadedModule(spec);
        for (const k of p ?? []) v = (v as Record<string, unknown>)?.[String(k)];
        return v;
      }
      if (tag === 'process') return process;
      throw ChannelErrors.MALFORMED(`record '${tag}' cannot come from a worker`);
    },
    namedSymbol: nodeSymbolByName,
    symbol: (id) => {
      const s = symbolById(id);
      if (!s) throw ChannelErrors.FORBIDDEN(`symbol ${id}`);
      return s;
    },
    setPrivates: () => {
      throw ChannelErrors.FORBIDDEN('private fields from a worker');
    },
  };
}

/**
 * A module a worker names: only one the server has loaded itself (a worker must not make the server
 * load code): Node built-ins, beehive, and package files already in the require cache.
 */
function loadedModule(spec: string): unknown {
  if (spec === 'beehive') return require('../../api');
  if (/^node:[a-z_/]+$/.test(spec)) return require(spec);
  const rel = path.posix.normalize(spec);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw ChannelErrors.FORBIDDEN(`module '${spec}'`);
  const cache = (Module as unknown as { _cache: Record<string, { exports: unknown; filename: string }> })._cache;
  const suffix = `${path.sep}node_modules${path.sep}${rel.split('/').join(path.sep)}`;
  for (const m of Object.values(cache)) if (m.filename.endsWith(suffix)) return m.exports;
  throw ChannelErrors.FORBIDDEN(`module '${spec}' is not loaded on the server`);
}
