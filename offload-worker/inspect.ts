import inspector from 'node:inspector';
import { WorkerErrors } from './errors';

/**
 * The worker's own in-process inspector session, opened only when a handler leaves a callback for
 * the server (see callbacks.ts): where a closure made here sits in the code the server sent, and
 * the values of the handler's variables it closes over. Its `Runtime.*`/`Debugger.enable` callbacks
 * run synchronously, as on the server (agent/capture/inspector.ts, which a worker does not ship).
 */
let session: inspector.Session | undefined;
const scripts = new Set<string>();

function post<T>(method: string, params?: object): T {
  const s = ensure();
  let out: T | undefined;
  let error: Error | null = null;
  let done = false;
  s.post(method, params ?? {}, (err, res) => {
    error = err;
    out = res as T;
    done = true;
  });
  if (!done) throw WorkerErrors.INSPECTOR(method);
  if (error) throw error;
  return out!;
}

function ensure(): inspector.Session {
  if (session) return session;
  session = new inspector.Session();
  session.connect();
  session.on('Debugger.scriptParsed', (m) => scripts.add((m.params as { scriptId: string }).scriptId));
  session.post('Debugger.enable', {});
  return session;
}

interface RemoteObject {
  type: string;
  value?: unknown;
  unserializableValue?: string;
  objectId?: string;
  description?: string;
}

const kSlot = '__beehive_worker_inspect_slot__';

function withObject<T>(value: unknown, fn: (objectId: string) => T): T {
  const g = globalThis as Record<string, unknown>;
  g[kSlot] = value;
  try {
    const { result } = post<{ result: RemoteObject }>('Runtime.evaluate', { expression: `globalThis.${kSlot}`, objectGroup: 'beehive-worker' });
    return fn(result.objectId!);
  } finally {
    delete g[kSlot];
    post('Runtime.releaseObjectGroup', { objectGroup: 'beehive-worker' });
  }
}

function internal(objectId: string): Array<{ name: string; value?: RemoteObject }> {
  return post<{ internalProperties?: Array<{ name: string; value?: RemoteObject }> }>('Runtime.getProperties', { objectId, ownProperties: true })
    .internalProperties ?? [];
}

/** Where a function's code starts: its script and that script's offset (undefined for native or bound ones). */
export function functionPlace(fn: Function): { scriptId: string; offset: number } | undefined {
  return withObject(fn, (id) => {
    const props = internal(id);
    if (props.some((p) => p.name === '[[TargetFunction]]')) return undefined;
    const loc = props.find((p) => p.name === '[[FunctionLocation]]')?.value?.value as { scriptId: string; lineNumber: number; columnNumber: number } | undefined;
    if (!loc) return undefined;
    const src = scriptText(loc.scriptId);
    let off = 0;
    for (let l = 0; l < loc.lineNumber; l++) off = src.indexOf('\n', off) + 1;
    return { scriptId: loc.scriptId, offset: off + loc.columnNumber };
  });
}

const sources = new Map<string, string>();
export function scriptText(scriptId: string): string {
  let s = sources.get(scriptId);
  if (s === undefined) {
    s = post<{ scriptSource: string }>('Debugger.getScriptSource', { scriptId }).scriptSource;
    // Scripts compiled for code records stay for the worker's life; keep the cache bounded anyway.
    if (sources.size > 2000) sources.clear();
    sources.set(scriptId, s);
  }
  return s;
}

/** A function's scope chain, innermost first, with the values of the named variables (identity kept). */
export function scopeValues(fn: Function, names: Set<string>): Array<{ type: string; values: Map<string, unknown> }> {
  return withObject(fn, (fid) => {
    const scopesId = internal(fid).find((p) => p.name === '[[Scopes]]')?.value?.objectId;
    if (!scopesId) return [];
    const list = post<{ result: Array<{ name: string; value?: RemoteObject }> }>('Runtime.getProperties', { objectId: scopesId, ownProperties: true }).result;
    const out: Array<{ type: string; values: Map<string, unknown> }> = [];
    for (const s of list) {
      if (!/^\d+$/.test(s.name) || !s.value?.objectId) continue;
      const type = (s.value.description ?? '').split(' ')[0].toLowerCase();
      if (type === 'global') continue;
      const vars = post<{ result: Array<{ name: string; value?: RemoteObject }> }>('Runtime.getProperties', { objectId: s.value.objectId, ownProperties: true }).result;
      const wanted = vars.filter((v) => v.value && names.has(v.name));
      const values = new Map<string, unknown>();
      if (wanted.length > 0) {
        post('Runtime.callFunctionOn', {
          objectId: s.value.objectId,
          functionDeclaration: `function (...a) { globalThis.${kSlot} = a; }`,
          arguments: wanted.map((v) => argOf(v.value!)),
        });
        const got = (globalThis as unknown as Record<string, unknown[]>)[kSlot];
        wanted.forEach((v, i) => values.set(v.name, got[i]));
      }
      out.push({ type, values });
    }
    return out;
  });
}

function argOf(r: RemoteObject): object {
  if (r.objectId) return { objectId: r.objectId };
  if (r.unserializableValue !== undefined) return { unserializableValue: r.unserializableValue };
  return { value: r.value };
}
