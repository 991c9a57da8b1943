import { createRequire } from 'node:module';
import { ChannelErrors, type DecodeHooks } from '../../protocol';
import type { Lease } from '../../gc';

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
        let v: unknown = spec === 'beehive' ? require('../../index') : spec.startsWith('node:') ? require(spec) : createRequire(process.cwd() + '/x.js')(spec);
        for (const k of p ?? []) v = (v as Record<string, unknown>)?.[String(k)];
        return v;
      }
      if (tag === 'process') return process;
      throw ChannelErrors.MALFORMED(`record '${tag}' cannot come from a worker`);
    },
    setPrivates: () => {
      throw ChannelErrors.FORBIDDEN('private fields from a worker');
    },
  };
}
