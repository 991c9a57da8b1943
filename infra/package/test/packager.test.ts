import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import yauzl from 'yauzl';
import { packageApp, type PackageReport } from '../packager';
import { makeApp } from './app-fixture';

function entries(zipFile: string): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const out = new Map<string, number>();
    yauzl.open(zipFile, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      zip.on('entry', (e: yauzl.Entry) => (out.set(e.fileName, e.uncompressedSize), zip.readEntry()));
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('beehive package: artifact layout', () => {
  let app: ReturnType<typeof makeApp>;
  let report: PackageReport;
  let files: Map<string, number>;
  beforeAll(async () => {
    app = makeApp();
    report = await packageApp({ platform: 'lambda', appDir: app.dir });
    files = await entries(report.out);
  });
  afterAll(() => app?.cleanup());

  it('writes .beehive/lambda.zip with an index.js exporting the Lambda adapter', async () => {
    expect(report.out).toBe(path.join(app.dir, '.beehive', 'lambda.zip'));
    expect(files.has('index.js')).toBe(true);
    expect(files.has('package.json')).toBe(true);
    expect(files.has('node_modules/beehive/dist/offload-worker/lambda.js')).toBe(true);
    expect(files.has('node_modules/beehive/dist/offload-worker/runtime.js')).toBe(true);
    expect(files.has('node_modules/beehive/dist/protocol/index.js')).toBe(true);
    // The worker's own dependency (the channel client) travels with it; server-only ones do not.
    expect(files.has('node_modules/ws/package.json')).toBe(true);
    expect([...files.keys()].some((f) => f.startsWith('node_modules/@aws-sdk/'))).toBe(false);
    expect([...files.keys()].some((f) => f.startsWith('node_modules/beehive/dist/agent/'))).toBe(false);
  });

  it('holds only what the worker runs: no proxy, agent or admin file, no prom-client, pg only from the app', () => {
    const names = [...files.keys()];
    const ours = names.filter((f) => f.startsWith('node_modules/beehive/dist/')).map((f) => f.slice('node_modules/beehive/dist/'.length));
    expect(ours.filter((f) => !/^(api|protocol|gc|offload-worker)\//.test(f))).toEqual([]);
    // The worker's pg unpacker is its own; pg itself would come from the app, which has none.
    expect(ours).toContain('offload-worker/pg-unpack.js');
    for (const pkg of ['prom-client', 'bintrees', 'tdigest', '@opentelemetry/api', 'openwhisk', 'yauzl', 'yazl', 'acorn', 'pg', 'pg-protocol']) {
      expect(names.some((f) => f.startsWith(`node_modules/${pkg}/`)), pkg).toBe(false);
    }
  });

  it('includes the production tree transitively, native addons, and nests a conflicting version', () => {
    expect(files.has('node_modules/fake-native/build/Release/addon.node')).toBe(true);
    expect(report.nativeAddons).toEqual(['node_modules/fake-native/build/Release/addon.node']);
    expect(files.has('node_modules/express/package.json')).toBe(true);
    expect(files.has('node_modules/router/package.json')).toBe(true);
    expect(files.has('node_modules/shared/index.js')).toBe(true);
    expect(files.has('node_modules/other/node_modules/shared/package.json')).toBe(true);
  });

  it('leaves out dev dependencies, app sources, typings and missing optional dependencies', () => {
    const names = [...files.keys()];
    expect(names.some((f) => f.includes('dev-only'))).toBe(false);
    expect(files.has('app.js') || files.has('.env')).toBe(false);
    expect(names.some((f) => f.endsWith('.d.ts') || f.endsWith('.map'))).toBe(false);
  });

  it('reports sizes and the largest contributors', () => {
    expect(report.zippedBytes).toBe(fs.statSync(report.out).size);
    expect(report.unzippedBytes).toBe([...files.values()].reduce((a, b) => a + b, 0));
    expect(report.files).toBe(files.size);
    expect(report.top[0].bytes).toBeGreaterThan(0);
    expect(report.top.map((t) => t.name)).toContain('beehive (worker runtime)');
  });

  it('is deterministic', async () => {
    const again = await packageApp({ platform: 'lambda', appDir: app.dir, out: path.join(app.dir, 'again.zip') });
    expect(fs.readFileSync(again.out).equals(fs.readFileSync(report.out))).toBe(true);
  });

  it('builds an OpenWhisk action zip exporting main, with a wskdeploy manifest', async () => {
    const ow = await packageApp({ platform: 'openwhisk', appDir: app.dir });
    const owFiles = await entries(ow.out);
    expect(owFiles.has('node_modules/beehive/dist/offload-worker/openwhisk.js')).toBe(true);
    const manifest = fs.readFileSync(ow.manifest!, 'utf8');
    expect(manifest).toMatch(/function: openwhisk\.zip/);
    expect(manifest).toMatch(/shop-worker:/);
    expect(manifest).toMatch(/runtime: nodejs:20/);
  });

  it('refuses above the limits with a coded error and leaves no artifact', async () => {
    const out = path.join(app.dir, 'small.zip');
    await expect(packageApp({ platform: 'lambda', appDir: app.dir, out, limits: { zippedBytes: 1000 } })).rejects.toMatchObject({
      code: 'BEEHIVE_ERR_PACKAGE_TOO_LARGE',
      message: expect.stringMatching(/lambda artifact is .* zipped, over the 1000 B limit/),
    });
    expect(fs.existsSync(out)).toBe(false);
    await expect(packageApp({ platform: 'lambda', appDir: app.dir, out, limits: { unzippedBytes: 1000 } })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PACKAGE_TOO_LARGE' });
  });

  it('refuses a folder without package.json and a missing dependency', async () => {
    await expect(packageApp({ platform: 'lambda', appDir: path.join(app.dir, 'node_modules', 'fake-native', 'build') })).rejects.toMatchObject({ code: 'BEEHIVE_ERR_PACKAGE_APP_NOT_FOUND' });
    fs.rmSync(path.join(app.dir, 'node_modules', 'shared'), { recursive: true });
    await expect(packageApp({ platform: 'lambda', appDir: app.dir })).rejects.toMatchObject({
      code: 'BEEHIVE_ERR_PACKAGE_DEPENDENCY_MISSING',
      message: expect.stringMatching(/shared \(needed by fake-native@1.0.0\)/),
    });
  });
});
