import { Client, Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import type { AgentOptions } from '../config';
import { makePacker } from '../offload/2-pg-pack';

/** Without a proxy configured, a handler reaching a pg client or pool stays on the server, with the reason. */
describe('pg objects without a proxy', () => {
  const pack = makePacker({} as AgentOptions)('cap', false).pack!;

  it('a pg Client, a Pool and a pool-like object are refused with the reason', () => {
    const pool = new Pool();
    for (const v of [new Client(), pool]) {
      expect(() => pack(v)).toThrow(/uses a pg client or pool: start the BeeHive proxy/);
      try {
        pack(v);
      } catch (err) {
        expect((err as { code?: string }).code).toBe('BEEHIVE_ERR_CAPTURE_UNSUPPORTED');
      }
    }
    void pool.end();
  });

  it('anything else passes: plain objects, objects with only one of query/connect, functions', () => {
    for (const v of [{}, [], { query: () => 0 }, { connect: () => 0 }, { query: 1, connect: 2 }, () => 0, new Map()]) expect(pack(v as object)).toBeUndefined();
  });
});
