import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const RUNNER = path.join(__dirname, 'run-demo.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-demo-test-'));

describe('npm run demo', () => {
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs both phases, offloads some previews and finds the state consistent', async () => {
    const json = path.join(dir, 'demo.json');
    const child = spawn(process.execPath, [RUNNER, '--seconds', '2', '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const [code] = await once(child, 'exit');
    expect(code, out).toBe(0);
    const r = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(r.ok).toBe(true);
    const hot = r.phases[1].handlers.find((h: { id: string }) => h.id === 'POST /preview');
    expect(hot.offloaded).toBeGreaterThan(0);
    expect(r.phases[0].handlers.find((h: { id: string }) => h.id === 'POST /preview').offloaded).toBe(0);
    expect(out).toContain('All checks passed.');
  }, 90_000);
});
