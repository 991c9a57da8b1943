import fs from 'node:fs';
import path from 'node:path';

let version: string | undefined;

/** The package's version, from its package.json (found upwards: sources and dist/ sit at different depths). */
export function productVersion(): string {
  if (version) return version;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const f = path.join(dir, 'package.json');
    if (fs.existsSync(f)) {
      const p = JSON.parse(fs.readFileSync(f, 'utf8')) as { name?: string; version?: string };
      if (p.name === 'beehive' && p.version) return (version = p.version);
    }
    if (path.dirname(dir) === dir) return (version = '0.0.0');
  }
}
