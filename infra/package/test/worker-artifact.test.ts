/**
 * The worker carries no server: the Lambda artifact that `beehive package lambda` builds for an app
 * without pg holds the worker runtime (api/, protocol/, gc/, offload-worker/) and the channel
 * client's ws, and nothing of the proxy, the agent, the admin API or prom-client.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = path.resolve(__dirname, '../../../dist/bin/beehive.js');
/** The zipped artifact of this app before the worker stopped requiring proxy/ (and, through it, pg). */
const ZIPPED_BEFORE = 257_916;

function listZip(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const out: string[] = [];
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      zip.on('entry', (e: yauzl.Entry) => (out.push(e.fileName), zip.readEntry()));
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('the Lambda artifact of an app without pg', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-lean-'));
  const out = path.join(dir, 'lambda.zip');
  let report: { zippedBytes: number; files: number };
  let names: string[];
  beforeAll(async () => {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'lean', version: '1.0.0', dependencies: {} }));
    const r = spawnSync(process.execPath, [CLI, 'package', 'lambda', '--app', dir, '--out', out, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    report = JSON.parse(r.stdout);
    names = await listZip(out);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('holds the worker runtime and nothing of the server half', () => {
    expect(names.length).toBe(report.files);
    const ours = names.filter((f) => f.startsWith('node_modules/beehive/dist/')).map((f) => f.slice('node_modules/beehive/dist/'.length));
    for (const f of ['offload-worker/lambda.js', 'offload-worker/runtime.js', 'offload-worker/pg-unpack.js', 'api/index.js', 'protocol/index.js', 'gc/index.js']) expect(ours, f).toContain(f);
    expect(ours.filter((f) => !/^(api|protocol|gc|offload-worker)\//.test(f))).toEqual([]);
    expect(ours.filter((f) => /admin|metrics|proxy|agent\//.test(f))).toEqual([]);
    const packages = [...new Set(names.filter((f) => f.startsWith('node_modules/') && !f.startsWith('node_modules/beehive/')).map((f) => f.split('/')[1]))];
    expect(packages).toEqual(['ws']);
  });

  it('is at most half the size it had while the worker required the proxy', () => {
    expect(report.zippedBytes).toBe(fs.statSync(out).size);
    expect(report.zippedBytes).toBeLessThanOrEqual(ZIPPED_BEFORE / 2);
  });
});
