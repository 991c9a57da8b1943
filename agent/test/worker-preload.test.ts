import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addWorkerPreload, expressPreload } from '../worker-preload';
import { preloadPackages } from '../../offload-worker/preload';
import { ROOT } from './harness';

// What local workers load while they start, so that a first offload does not pay for it.
describe('worker preload', () => {
  const saved = process.env.BEEHIVE_WORKER_PRELOAD;
  afterEach(() => {
    if (saved === undefined) delete process.env.BEEHIVE_WORKER_PRELOAD;
    else process.env.BEEHIVE_WORKER_PRELOAD = saved;
  });

  it("names the app's Express files as a request snapshot names them, and nothing for an app without Express", () => {
    expect(expressPreload(ROOT)).toEqual(['express/lib/request.js', 'express/lib/response.js', 'express/lib/utils.js']);
    expect(expressPreload(fs.mkdtempSync(path.join(os.tmpdir(), 'bh-no-express-')))).toEqual([]);
  });

  it('adds to what is there (Nest adds its own later), once each', () => {
    delete process.env.BEEHIVE_WORKER_PRELOAD;
    addWorkerPreload(['express/lib/request.js', 'express/lib/utils.js']);
    addWorkerPreload(['@nestjs/common/index.js', 'express/lib/utils.js']);
    expect(process.env.BEEHIVE_WORKER_PRELOAD).toBe('express/lib/request.js,express/lib/utils.js,@nestjs/common/index.js');
  });

  it('is what a worker then loads from the app root: the same cache entries a closure names', () => {
    const file = require.resolve('express/lib/request.js', { paths: [ROOT] });
    expect(preloadPackages(expressPreload(ROOT).join(','))).toBe(3);
    expect(require.cache[file]).toBeDefined();
  });
});
