/**
 * One function instance: a separate Node process running the bootstrap, with the platform's memory
 * limit as V8's heap limit. Cold start = spawn + init; then it serves invocations one at a time
 * until it idles out, crashes, or is killed at a timeout (both platforms discard an instance whose
 * invocation timed out).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { compiledFile } from './paths';
import type { InstanceMessage, InvokeMessage, RuntimeMode } from './ipc';

export interface InstanceConfig {
  mode: RuntimeMode;
  taskRoot: string;
  handler: string;
  memoryMB: number;
  env: Record<string, string>;
}

export type RunOutcome =
  | { kind: 'ok'; body: string }
  | { kind: 'error'; errorType: string; errorMessage: string; trace: string[]; fatal: boolean }
  | { kind: 'timeout' }
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null };

export interface RunReport {
  outcome: RunOutcome;
  logs: string[];
  durationMs: number;
  maxMemoryMB: number;
}

export class Instance {
  readonly id = randomUUID().replace(/-/g, '').slice(0, 16);
  state: 'starting' | 'idle' | 'busy' | 'dead' = 'starting';
  invocations = 0;
  initMs = 0;
  readonly ready: Promise<void>;
  private child: ChildProcess;
  private logs: string[] = [];
  private maxRssKB = 0;
  private pending?: (o: RunOutcome) => void;
  private onDeath: Array<() => void> = [];

  constructor(cfg: InstanceConfig) {
    const started = performance.now();
    this.child = fork(compiledFile(__dirname, 'bootstrap.js'), [cfg.mode, cfg.taskRoot, cfg.handler], {
      cwd: cfg.taskRoot,
      env: cfg.env,
      execArgv: [`--max-old-space-size=${cfg.memoryMB}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    // Native output (V8's out-of-memory report, addons) bypasses the bootstrap: keep it too.
    this.child.stdout?.on('data', (d: Buffer) => this.logs.push(d.toString('utf8')));
    this.child.stderr?.on('data', (d: Buffer) => this.logs.push(d.toString('utf8')));
    this.ready = new Promise<void>((resolve, reject) => {
      this.child.on('message', (m: InstanceMessage) => {
        if (m.t === 'ready') {
          this.initMs = performance.now() - started;
          this.state = 'idle';
          resolve();
        } else if (m.t === 'init-error') {
          reject(Object.assign(new Error(m.errorMessage), { errorType: m.errorType, trace: m.trace }));
        } else if (m.t === 'log') {
          this.logs.push(m.d);
        } else if (m.t === 'result') {
          this.maxRssKB = Math.max(this.maxRssKB, m.maxRssKB);
          const p = this.pending;
          this.pending = undefined;
          p?.(m.ok ? { kind: 'ok', body: m.body } : { kind: 'error', errorType: m.errorType, errorMessage: m.errorMessage, trace: m.trace, fatal: !!m.fatal });
        }
      });
      this.child.on('exit', (code, signal) => {
        this.state = 'dead';
        reject(Object.assign(new Error(`Runtime exited during init: ${exitText(code, signal)}`), { errorType: 'Runtime.ExitError', trace: [] }));
        const p = this.pending;
        this.pending = undefined;
        p?.({ kind: 'exit', code, signal });
        for (const f of this.onDeath.splice(0)) f();
      });
      this.child.on('error', () => {});
    });
    this.ready.catch(() => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Calls `f` once when the process is gone. */
  whenDead(f: () => void): void {
    if (this.state === 'dead') f();
    else this.onDeath.push(f);
  }

  /** Runs one invocation; a timeout kills the process (the platform resets the sandbox). */
  run(msg: InvokeMessage, timeoutMs: number): Promise<RunReport> {
    this.state = 'busy';
    this.invocations += 1;
    this.logs = [];
    const started = performance.now();
    return new Promise<RunReport>((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.kill();
        settle({ kind: 'timeout' });
      }, timeoutMs);
      const settle = (outcome: RunOutcome) => {
        clearTimeout(timer);
        if (this.state === 'busy') this.state = 'idle';
        if (outcome.kind === 'error' && outcome.fatal) this.state = 'dead';
        // Let already-piped native output reach us before the caller reads the logs.
        setImmediate(() =>
          resolve({ outcome, logs: this.logs, durationMs: performance.now() - started, maxMemoryMB: Math.ceil(this.maxRssKB / 1024) }),
        );
      };
      this.pending = settle;
      if (this.state === 'dead' || !this.child.connected) return settle({ kind: 'exit', code: this.child.exitCode, signal: this.child.signalCode });
      this.child.send(msg);
    });
  }

  kill(): void {
    if (this.state !== 'dead') this.state = 'dead';
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** Lambda's wording for a runtime process that went away. */
export function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal: ${signal === 'SIGKILL' ? 'killed' : signal === 'SIGABRT' ? 'aborted' : signal}`;
  return `exit status ${code}`;
}
