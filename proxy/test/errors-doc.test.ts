import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProxyErrors, sqlstateOf } from '../errors';

describe('proxy error codes', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/errors/proxy.md'), 'utf8');
  it('documents every code', () => {
    for (const f of Object.values(ProxyErrors)) expect(doc, f.code).toContain(`\`${f.code}\``);
  });
  it('maps wire errors to SQLSTATEs', () => {
    expect(sqlstateOf(ProxyErrors.PROTOCOL_VIOLATION())).toBe('08P01');
    expect(sqlstateOf(ProxyErrors.TOO_MANY_CLIENTS())).toBe('53300');
    expect(sqlstateOf(ProxyErrors.AUTH_FAILED())).toBe('28P01');
    expect(sqlstateOf(ProxyErrors.SHUTDOWN())).toBe('57P01');
    expect(ProxyErrors.HANDOFF_USED('x').code).toBe('BEEHIVE_ERR_PROXY_HANDOFF_USED');
  });
});
