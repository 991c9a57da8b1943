import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { allErrorCodes } from '../../../protocol/errors';
import { PlatformErrors, invokeError, type PlatformErrorKey } from '../errors';
import { PackageErrors, EmulatorErrors } from '../../../infra/errors';

const doc = fs.readFileSync(path.resolve(__dirname, '../../../docs/errors/platform.md'), 'utf8');

describe('platform error codes', () => {
  it.each(allErrorCodes([PlatformErrors, PackageErrors, EmulatorErrors]))('%s is documented in docs/errors/platform.md', (code) => {
    expect(doc).toContain(`\`${code}\``);
  });

  it('gives every provider error the kind its documentation row names', () => {
    for (const key of Object.keys(PlatformErrors) as PlatformErrorKey[]) {
      const err = invokeError(key, 'x');
      const row = doc.split('\n').find((l) => l.includes(`\`${err.code}\``))!;
      expect(row.split('|')[2].trim(), key).toBe(err.kind);
    }
  });
});
