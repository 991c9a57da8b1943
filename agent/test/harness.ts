import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { once } from 'node:events';

export const ROOT = path.resolve(__dirname, '../..');
export const REGISTER = path.join(ROOT, 'dist/agent/register.js');

export interface RunningApp {
  url: string;
  child: ChildProcess;
  statsFile: string;
  stderr: () => string;
  /** Standard output after the first line. */
  stdout: () => string;
  /** The first line the app printed, parsed (its port, and whatever else it reports). */
  info: Record<string, unknown>;
  stop(): Promise<Record<string, any>>;
  admin?: string;
}

/**
 * Starts a fixture app the way users do (`node -r beehive/agent app.js`) with the given BEEHIVE_*
 * environment, and waits for the port it prints as its first line.
 */
export async function startApp(fixture: string, env: Record<string, string> = {}, nodeArgs?: string[]): Promise<RunningApp> {
  const statsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bh-stats-')), 'stats.json');
  const args = nodeArgs ?? ['-r', REGISTER];
  const child = spawn(process.execPath, [...args, fixture], {
    cwd: path.dirname(fixture),
    env: { ...process.env, BEEHIVE_STATS_FILE: statsFile, BEEHIVE_APP_ROOT: ROOT, BEEHIVE_ADMIN: '127.0.0.1:0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const rl = readline.createInterface({ input: child.stdout! });
  const first = await Promise.race([
    once(rl, 'line').then(([l]) => l as string),
    once(child, 'exit').then(([code]) => {
      throw new Error(`app exited with ${code}: ${err}`);
    }),
  ]);
  const info = JSON.parse(first) as { port: number } & Record<string, unknown>;
  const { port } = info;
  let out = '';
  rl.on('line', (l) => (out += l + '\n'));
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    statsFile,
    stderr: () => err,
    stdout: () => out,
    info,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
      return JSON.parse(fs.readFileSync(statsFile, 'utf8'));
    },
  };
}

/** GETs `url` and parses its JSON; anything but a 200 throws with the body. */
export async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** A handler's counters in the agent's state (`beehive.state().handlers`), as the tests read them. */
export interface HandlerCounters {
  id: string;
  offloaded: number;
  local: number;
  conflicts: number;
  retried: number;
  reexecuted: number;
  failures: number;
  conflictsByReason: Record<string, number>;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const KEEP = ['content-type', 'location', 'set-cookie', 'x-one', 'x-two', 'x-tag', 'x-list', 'x-end', 'vary', 'content-disposition'];

export async function call(base: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers }, redirect: 'manual' };
  if (typeof body === 'string') {
    init.body = body;
    (init.headers as Record<string, string>)['content-type'] ??= 'application/x-www-form-urlencoded';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const r = await fetch(base + p, init);
  const buf = Buffer.from(await r.arrayBuffer());
  const h: Record<string, string> = {};
  for (const k of KEEP) {
    const v = k === 'set-cookie' ? r.headers.getSetCookie().join(' | ') : r.headers.get(k);
    if (v) h[k] = v;
  }
  const text = /octet-stream/.test(h['content-type'] ?? '') ? buf.toString('hex') : buf.toString('utf8');
  return { status: r.status, headers: h, body: text };
}

/** Mulberry32: a small seeded generator, so that a failing fault drill can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
