/**
 * PostgreSQL's own client programs for the tests that check the proxy with them (psql, pgbench),
 * found on PATH or installed with apt-get (Debian's postgresql-client, as root) on first use, so
 * that the tests need nothing installed beforehand. Where that cannot be done the tests that need
 * a tool are skipped with the reason (`toolMissing`).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

type Tool = 'psql' | 'pgbench';
const kPackage: Record<Tool, string> = { psql: 'postgresql-client', pgbench: 'postgresql-client' };

function find(name: string): string | null {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  try {
    for (const v of fs.readdirSync('/usr/lib/postgresql').sort().reverse()) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    /* none there */
  }
  for (const dir of dirs) {
    const f = path.join(dir, name);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      /* next */
    }
  }
  return null;
}

const reasons = new Map<Tool, string>();

function aptGet(args: string[]): void {
  const opts = { stdio: 'pipe' as const, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 300_000 };
  try {
    execFileSync('apt-get', args, opts);
  } catch {
    execFileSync('apt-get', ['update', '-qq'], opts);
    execFileSync('apt-get', args, opts);
  }
}

/** The tool's path, installing its Debian package when it is missing and we are root; null otherwise (see toolMissing). */
export function pgTool(name: Tool): string | null {
  const found = find(name);
  if (found) return found;
  if (reasons.has(name)) return null;
  try {
    if (process.getuid?.() !== 0) throw new Error('not root, cannot apt-get install');
    aptGet(['install', '-y', '-qq', kPackage[name]]);
  } catch (err) {
    reasons.set(name, `${name} is needed (apt-get install ${kPackage[name]}) and could not be installed: ${(err as Error).message.split('\n')[0]}`);
    return null;
  }
  const installed = find(name);
  if (!installed) reasons.set(name, `${name} not found after apt-get install ${kPackage[name]}`);
  return installed;
}

/** Why pgTool(name) returned null (printed by the tests it skips). */
export function toolMissing(name: Tool): string {
  return reasons.get(name) ?? `${name} not found`;
}
