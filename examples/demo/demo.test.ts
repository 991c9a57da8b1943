import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const RUNNER = path.join(__dirname, 'run-demo.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-demo-test-'));

async function demo(...args: string[]): Promise<{ code: number; out: string; json: any }> {
  const json = path.join(dir, `demo-${args.join('-').replace(/\W+/g, '_')}.json`);
  const child = spawn(process.execPath, [RUNNER, '--seconds', '2', '--json', json, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const [code] = await once(child, 'exit');
  return { code, out, json: fs.existsSync(json) ? JSON.parse(fs.readFileSync(json, 'utf8')) : undefined };
}

describe('npm run demo', () => {
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs the three phases, offloads previews, sees the controller react and finds the state exact', async () => {
    const { code, out, json: r } = await demo();
    expect(code, out).toBe(0);
    expect(r.ok).toBe(true);
    const hot = r.phases[1].handlers.find((h: { id: string }) => h.id === 'POST /preview');
    expect(hot.offloaded).toBeGreaterThan(0);
    expect(r.phases[0].handlers.find((h: { id: string }) => h.id === 'POST /preview').offloaded).toBe(0);
    const auto = r.phases[2];
    expect(auto.reaction.controllerChanges.some((e: { from: number; value: number; by: string }) => e.by === 'controller' && e.value > e.from)).toBe(true);
    expect(auto.checks.map((c: { what: string }) => c.what)).toContain("the controller raised the ratio under the load (the agent's event log)");
    expect(out).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\/#token=/);
    expect(out).toContain('All checks passed.');
  }, 300_000);

  it('fails, exit 1, when the controller is off: its reaction is a checked claim', async () => {
    const { code, out, json: r } = await demo('--controller', 'off');
    expect(code, out).toBe(1);
    expect(r.ok).toBe(false);
    const failed = r.phases[2].checks.filter((c: { ok: boolean }) => !c.ok).map((c: { what: string }) => c.what);
    expect(failed).toContain("the controller raised the ratio under the load (the agent's event log)");
    expect(failed).toContain('previews ran on workers and committed during the burst');
    // The state checks still hold: only the claims about the controller fail.
    expect(r.phases.flatMap((p: { checks: Array<{ ok: boolean; what: string }> }) => p.checks).filter((c: { ok: boolean; what: string }) => !c.ok && !/controller|burst|SLO/.test(c.what))).toEqual([]);
    expect(out).toContain('SOME CHECKS FAILED.');
    expect(out).toMatch(/✗ \[auto\] the controller raised the ratio/);
  }, 300_000);
});
