import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allErrorCodes } from '../../../protocol/errors';
import { adminErrorRegistries } from '../index';

describe('admin error codes', () => {
  it('are all documented in docs/errors/admin.md', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/errors/admin.md'), 'utf8');
    const codes = allErrorCodes(adminErrorRegistries);
    expect(codes.length).toBeGreaterThan(10);
    for (const code of codes) expect(doc, code).toContain(`\`${code}\``);
  });
});
