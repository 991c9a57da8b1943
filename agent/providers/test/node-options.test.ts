import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { workerNodeOptions } from '../node-options';

const ROOT = path.join(__dirname, '../../..');
const entries = [path.join(ROOT, 'dist/agent/register.js'), path.join(ROOT, 'dist/agent/register.mjs')];
const opts = (s: string, cwd = ROOT) => workerNodeOptions(s, cwd, entries);

describe("a worker's NODE_OPTIONS", () => {
  it("drops the agent's preload in each of its spellings", () => {
    expect(opts('-r beehive/agent')).toBe('');
    expect(opts('--require=beehive/agent --max-old-space-size=512')).toBe('--max-old-space-size=512');
    expect(opts('--import beehive/agent')).toBe('');
    expect(opts(`-r ${entries[0]} --enable-source-maps`)).toBe('--enable-source-maps');
    expect(opts('-r ./dist/agent/register.js')).toBe('');
    expect(opts(`--import=${pathToFileURL(entries[1]).href}`)).toBe('');
    expect(opts('-r /srv/app/node_modules/beehive/dist/agent/register.js')).toBe('');
  });

  it("keeps the app's other preloads, whatever their paths are called", () => {
    // A folder named after the product is not the product (a test's temporary folder, an app's own).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-app-'));
    const hook = path.join(dir, 'tracing.cjs');
    fs.writeFileSync(hook, '');
    try {
      expect(opts(`--require ${hook} -r beehive/agent`)).toBe(`--require ${hook}`);
      expect(opts(`-r=${hook}`)).toBe(`-r=${hook}`);
      expect(opts('-r dd-trace/init --inspect=0')).toBe('-r dd-trace/init --inspect=0');
      expect(opts('--require "/opt/my tools/hook.js" -r beehive/agent')).toBe('--require "/opt/my tools/hook.js"');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is empty for no options, and leaves a trailing -r without a value alone', () => {
    expect(workerNodeOptions(undefined)).toBe('');
    expect(opts('')).toBe('');
    expect(opts('--trace-warnings -r')).toBe('--trace-warnings -r');
  });
});
