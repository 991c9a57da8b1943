import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, REGISTER } from './harness';

/**
 * Express's own acceptance suite (mocha + supertest over Express's example apps), kept outside the
 * shipped project in ../shared/conformance/express. It runs against this checkout's node_modules and
 * dist/, without and with the agent, so that both runs see the same packages.
 */
export const SUITE = path.resolve(ROOT, '../shared/conformance/express');

export interface SuiteRun {
  passes: number;
  tests: number;
  failures: Array<{ title: string; message: string }>;
}

export interface SuiteFigures {
  plain: SuiteRun;
  agent: SuiteRun;
  /** Handler runs per where they ran, from the agent's stats file. */
  offloaded: number;
  local: number;
  localReasons: string[];
  stats: Record<string, any>;
}

/** The suite's apps in a fresh folder whose `express` is the given package (express or express4). */
function prepare(expressPkg: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bh-conformance-${expressPkg}-`));
  fs.cpSync(path.join(SUITE, 'examples'), path.join(dir, 'examples'), { recursive: true });
  fs.cpSync(path.join(SUITE, 'test'), path.join(dir, 'test'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(path.join(ROOT, 'node_modules', expressPkg), path.join(dir, 'node_modules', 'express'), 'dir');
  return dir;
}

function mocha(dir: string, report: string, env: Record<string, string>, preload: string[]): Promise<SuiteRun> {
  const bin = path.join(ROOT, 'node_modules/mocha/bin/mocha.js');
  // Mocha's 2 s default per test is tight for a first offload (a cold worker) on a loaded machine;
  // both runs get the same longer limit.
  const args = [...preload, bin, '--reporter', 'json', '--reporter-option', `output=${report}`, '--timeout', '20000', '--exit', 'test/acceptance/'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: dir,
      // Everything but `express` resolves from this checkout's node_modules.
      env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules'), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
    child.on('error', reject);
    child.on('exit', () => {
      let r: { stats: { passes: number; tests: number }; failures: Array<{ fullTitle: string; err?: { message?: string } }> };
      try {
        r = JSON.parse(fs.readFileSync(report, 'utf8'));
      } catch {
        reject(new Error(`mocha wrote no report: ${err}`));
        return;
      }
      resolve({ passes: r.stats.passes, tests: r.stats.tests, failures: r.failures.map((f) => ({ title: f.fullTitle, message: String(f.err?.message ?? '').slice(0, 300) })) });
    });
  });
}

export async function runSuite(expressPkg: string, agentEnv: Record<string, string> = {}): Promise<SuiteFigures> {
  const dir = prepare(expressPkg);
  const statsFile = path.join(dir, 'stats.json');
  const plain = await mocha(dir, path.join(dir, 'plain.json'), {}, []);
  const agent = await mocha(
    dir,
    path.join(dir, 'agent.json'),
    { BEEHIVE_MODE: 'always', BEEHIVE_ADMIN: 'off', BEEHIVE_STATS_FILE: statsFile, BEEHIVE_APP_ROOT: dir, ...agentEnv },
    ['-r', REGISTER],
  );
  const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
  let offloaded = 0;
  let local = 0;
  const localReasons: string[] = [];
  for (const h of stats.handlers ?? []) {
    offloaded += h.offloaded ?? 0;
    local += h.local ?? 0;
    if (h.local > 0) localReasons.push(`${h.id} ${h.local}x: ${h.reason ?? `${h.reexecuted} re-executed (${h.diverged} diverged), ${h.failures} failures, ${h.conflicts} conflicts`}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return { plain, agent, offloaded, local, localReasons, stats };
}
