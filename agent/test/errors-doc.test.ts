import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChannelErrors, CodecErrors } from '../../protocol';
import { WorkerErrors } from '../../offload-worker';
import { CaptureErrors } from '../capture/errors';
import { LocalErrors } from '../providers/local';
import { ConfigErrors } from '../config';

describe('error codes of the offload path', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/errors/core.md'), 'utf8');
  const index = fs.readFileSync(path.join(__dirname, '../../ERRORS.md'), 'utf8');
  const all = [ConfigErrors, CodecErrors, ChannelErrors, WorkerErrors, CaptureErrors, LocalErrors].flatMap((r) => Object.values(r).map((f) => f.code));

  it.each(all)('%s is documented', (code) => {
    expect(doc).toContain(`\`${code}\``);
  });

  it('every area page is linked from ERRORS.md', () => {
    for (const f of fs.readdirSync(path.join(__dirname, '../../docs/errors'))) expect(index).toContain(`docs/errors/${f}`);
  });

  it('codes are unique and well-formed', () => {
    expect(new Set(all).size).toBe(all.length);
    for (const c of all) expect(c).toMatch(/^BEEHIVE_ERR_[A-Z]+_[A-Z_]+$/);
  });
});
