import fs from 'node:fs';
import path from 'node:path';

/**
 * Packages the server asks a worker to load before its first invocation (BEEHIVE_WORKER_PRELOAD, a
 * comma list of package files as the server names them, `@nestjs/common/index.js`): the agent sets
 * it when it finds NestJS, whose ESM graph takes 0.5-1 s to load — otherwise paid by the first
 * offload of every controller that touches Nest. Resolved like the closure's module records (from
 * BEEHIVE_APP_ROOT or the working directory, by absolute path), so they are the same cache entries.
 * A package that does not load is skipped: the invocation that needs it reports why.
 */
export function preloadPackages(list = process.env.BEEHIVE_WORKER_PRELOAD): number {
  if (!list) return 0;
  let n = 0;
  const roots = [process.env.BEEHIVE_APP_ROOT, process.cwd()].filter(Boolean) as string[];
  for (const spec of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (spec.includes('..') || path.isAbsolute(spec)) continue;
    search: for (const root of roots) {
      for (let dir = path.resolve(root); ; dir = path.dirname(dir)) {
        const candidate = path.join(dir, 'node_modules', spec);
        if (fs.existsSync(candidate)) {
          try {
            require(candidate);
            n++;
          } catch {
            /* reported by the invocation that needs it */
          }
          break search;
        }
        if (path.dirname(dir) === dir) break;
      }
    }
  }
  return n;
}
