/**
 * A FaaS platform on loopback for test suites: an emulator serving this checkout's worker runtime
 * (the same adapter entry `beehive package` puts in index.js, from a folder instead of a zip so
 * that no packaging step is needed), and the BEEHIVE_* environment that points an agent at it.
 * Any offload test runs on Lambda or OpenWhisk by starting one of these and adding `env`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLambdaEmulator, type LambdaEmulator } from './lambda/server';
import { startOpenWhiskEmulator, type OpenWhiskEmulator } from './openwhisk/server';
import type { FunctionSpec } from './common/function-spec';
import { findBeehiveRoot } from '../package/packager';

export interface TestPlatform {
  platform: 'lambda' | 'openwhisk';
  /** Environment for the app under test (BEEHIVE_PLATFORM and the platform's settings). */
  env: Record<string, string>;
  emulator: LambdaEmulator | OpenWhiskEmulator;
  close(): Promise<void>;
}

export interface TestPlatformOptions extends Partial<Omit<FunctionSpec, 'name' | 'artifact'>> {
  /** Where the worker resolves packages required inside offloaded handlers. Default: beehive's root. */
  appRoot?: string;
}

export async function startTestPlatform(platform: 'lambda' | 'openwhisk', opts: TestPlatformOptions = {}): Promise<TestPlatform> {
  const root = findBeehiveRoot(__dirname);
  const entry = path.join(root, 'dist', 'offload-worker', platform === 'lambda' ? 'lambda.js' : 'openwhisk.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `beehive-${platform}-fn-`));
  fs.writeFileSync(path.join(dir, 'index.js'), `'use strict';\nmodule.exports = require(${JSON.stringify(entry)});\n`);
  const { appRoot, ...spec } = opts;
  const fn: FunctionSpec = { name: 'beehive-worker', artifact: dir, memoryMB: 512, timeoutS: 30, ...spec, env: { BEEHIVE_APP_ROOT: appRoot ?? root, ...(spec.env ?? {}) } };
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    if (platform === 'lambda') {
      const emulator = await startLambdaEmulator({ functions: [fn] });
      return {
        platform,
        emulator,
        env: {
          BEEHIVE_PLATFORM: 'lambda',
          BEEHIVE_LAMBDA_FUNCTION: fn.name,
          BEEHIVE_LAMBDA_ENDPOINT: emulator.url,
          // The SDK's standard chain reads these; the emulator does not check signatures.
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
          AWS_SECRET_ACCESS_KEY: 'local-test-secret',
        },
        close: async () => (await emulator.close(), cleanup()),
      };
    }
    const emulator = await startOpenWhiskEmulator({ functions: [fn] });
    return {
      platform,
      emulator,
      env: { BEEHIVE_PLATFORM: 'openwhisk', BEEHIVE_OPENWHISK_APIHOST: emulator.url, BEEHIVE_OPENWHISK_AUTH: emulator.auth, BEEHIVE_OPENWHISK_ACTION: fn.name },
      close: async () => (await emulator.close(), cleanup()),
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}
