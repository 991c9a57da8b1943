import fs from 'node:fs';
import path from 'node:path';
import { packageSpec } from './capture/module-index';

/**
 * Package files the local workers load while they start (BEEHIVE_WORKER_PRELOAD, read by
 * offload-worker/preload.ts), so that the first offload does not pay for them: Express's request,
 * response and utils (150–250 ms on a first invocation, measured), Nest's common package. Inherited by
 * the workers forked after the call; names are package paths as the closures name them.
 */
export function addWorkerPreload(specs: Iterable<string>): void {
  const now = new Set((process.env.BEEHIVE_WORKER_PRELOAD ?? '').split(',').filter(Boolean));
  for (const s of specs) now.add(s);
  process.env.BEEHIVE_WORKER_PRELOAD = [...now].join(',');
}

/** Express's files a request snapshot names (agent/offload/2-request-snapshot.ts), when the app has Express. */
export function expressPreload(appRoot: string): string[] {
  let dir: string;
  try {
    dir = path.dirname(require.resolve('express/package.json', { paths: [appRoot] }));
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const f of ['request.js', 'response.js', 'utils.js']) {
    const file = path.join(dir, 'lib', f);
    const spec = packageSpec(file);
    if (spec && fs.existsSync(file)) out.push(spec);
  }
  return out;
}
