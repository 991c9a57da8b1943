import inspector from 'node:inspector';
import { CaptureErrors } from './errors';

/**
 * An in-process inspector session. For `Runtime.*` and `Debugger.enable` the callbacks run
 * synchronously (FINDINGS.md), which is what lets capture happen inside a request without awaiting.
 */
let session: inspector.Session | undefined;
const scripts = new Map<string, { url: string; isModule: boolean }>();

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
  if (!done) throw CaptureErrors.INSPECTOR(method);
  if (error) throw error;
  return out!;
}

function ensure(): inspector.Session {
  if (session) return session;
  session = new inspector.Session();
  session.connect();
  session.on('Debugger.scriptParsed', (m) => {
    const p = m.params as { scriptId: string; url: string; isModule?: boolean };
    scripts.set(p.scriptId, { url: p.url, isModule: !!p.isModule });
  });
  // Enabling replays scriptParsed for every script loaded so far, synchronously.
  session.post('Debugger.enable', {});
  return session;
}

interface RemoteObject {
  type: string;
  subtype?: string;
  value?: unknown;
  unserializableValue?: string;
  objectId?: string;
  description?: string;
}
interface PropertyDescriptor {
  name: string;
  value?: RemoteObject;
}

export interface FunctionLocation {
  scriptId: string;
  url: string;
  isModule: boolean;
  line: number;
  column: number;
}

export interface ScopeInfo {
  /** 'closure', 'module', 'script', 'block', 'global', ... */
  type: string;
  name: string;
  /** name → value, read with identity kept. */
  values: Map<string, unknown>;
}

const kSlot = '__beehive_capture_slot__';

function withObject<T>(value: unknown, fn: (objectId: string) => T): T {
  const g = globalThis as Record<string, unknown>;
  g[kSlot] = value;
  try {
    const { result } = post<{ result: RemoteObject }>('Runtime.evaluate', { expression: `globalThis.${kSlot}`, objectGroup: 'beehive' });
    return fn(result.objectId!);
  } finally {
    delete g[kSlot];
    post('Runtime.releaseObjectGroup', { objectGroup: 'beehive' });
  }
}

function internal(objectId: string): Array<{ name: string; value?: RemoteObject }> {
  return post<{ internalProperties?: Array<{ name: string; value?: RemoteObject }> }>('Runtime.getProperties', { objectId, ownProperties: true })
    .internalProperties ?? [];
}

export function functionLocation(fn: Function): FunctionLocation | undefined {
  return withObject(fn, (id) => locationOf(id));
}

function locationOf(objectId: string): FunctionLocation | undefined {
  const props = internal(objectId);
  const target = props.find((p) => p.name === '[[TargetFunction]]');
  if (target?.value?.objectId) return locationOf(target.value.objectId);
  const loc = props.find((p) => p.name === '[[FunctionLocation]]')?.value?.value as
    | { scriptId: string; lineNumber: number; columnNumber: number }
    | undefined;
  if (!loc) return undefined;
  const script = scripts.get(loc.scriptId);
  return { scriptId: loc.scriptId, url: script?.url ?? '', isModule: script?.isModule ?? false, line: loc.lineNumber, column: loc.columnNumber };
}

export function scriptSource(scriptId: string): string {
  return post<{ scriptSource: string }>('Debugger.getScriptSource', { scriptId }).scriptSource;
}

/**
 * The function's scope chain with the values of the named variables (all when `names` is absent).
 * Values come back through `callFunctionOn` so objects keep their identity.
 */
export function readScopes(fn: Function, names?: Set<string>): ScopeInfo[] {
  return withObject(fn, (fid) => {
    const scopesId = internal(fid).find((p) => p.name === '[[Scopes]]')?.value?.objectId;
    if (!scopesId) return [];
    const list = post<{ result: PropertyDescriptor[] }>('Runtime.getProperties', { objectId: scopesId, ownProperties: true }).result;
    const out: ScopeInfo[] = [];
    for (const s of list) {
      if (!/^\d+$/.test(s.name) || !s.value?.objectId) continue;
      const desc = s.value.description ?? '';
      const type = desc.split(' ')[0].toLowerCase();
      if (type === 'global') continue;
      const vars = post<{ result: PropertyDescriptor[] }>('Runtime.getProperties', { objectId: s.value.objectId, ownProperties: true }).result;
      const wanted = vars.filter((v) => v.value && (!names || names.has(v.name)));
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
      out.push({ type, name: desc, values });
    }
    return out;
  });
}

function argOf(r: RemoteObject): object {
  if (r.objectId) return { objectId: r.objectId };
  if (r.unserializableValue !== undefined) return { unserializableValue: r.unserializableValue };
  return { value: r.value };
}

/** Private fields of an object, as [#name, value], read through the inspector. */
export function readPrivates(obj: object): Array<[string, unknown]> | undefined {
  return withObject(obj, (oid) => {
    const res = post<{ privateProperties?: PropertyDescriptor[] }>('Runtime.getProperties', { objectId: oid, ownProperties: true });
    const priv = (res.privateProperties ?? []).filter((p) => p.value);
    if (priv.length === 0) return undefined;
    post('Runtime.callFunctionOn', {
      objectId: oid,
      functionDeclaration: `function (...a) { globalThis.${kSlot}_p = a; }`,
      arguments: priv.map((p) => argOf(p.value!)),
    });
    const g = globalThis as unknown as Record<string, unknown[]>;
    const got = g[`${kSlot}_p`];
    delete g[`${kSlot}_p`];
    return priv.map((p, i) => [p.name, got[i]] as [string, unknown]);
  });
}

/** Writes private fields on the server's object (REPL-mode evaluation may name `#x`). */
export function writePrivates(obj: object, entries: Array<[string, unknown]>): void {
  const g = globalThis as Record<string, unknown>;
  for (const [name, value] of entries) {
    if (!/^#[A-Za-z_$][\w$]*$/.test(name)) throw CaptureErrors.PRIVATE_NAME(name);
    g[`${kSlot}_o`] = obj;
    g[`${kSlot}_v`] = value;
    try {
      const r = post<{ exceptionDetails?: { text: string } }>('Runtime.evaluate', {
        expression: `globalThis.${kSlot}_o.${name} = globalThis.${kSlot}_v`,
        replMode: true,
      });
      if (r.exceptionDetails) throw CaptureErrors.PRIVATE_WRITE(`${name}: ${r.exceptionDetails.text}`);
    } finally {
      delete g[`${kSlot}_o`];
      delete g[`${kSlot}_v`];
    }
  }
}

/** A promise's state and value, read through the inspector without waiting on it. */
export function promiseState(p: Promise<unknown>): { state: 'pending' | 'fulfilled' | 'rejected'; value?: unknown } {
  return withObject(p, (oid) => {
    const props = internal(oid);
    const state = props.find((x) => x.name === '[[PromiseState]]')?.value?.value as 'pending' | 'fulfilled' | 'rejected' | undefined;
    if (state !== 'fulfilled' && state !== 'rejected') return { state: 'pending' };
    const result = props.find((x) => x.name === '[[PromiseResult]]')?.value;
    if (!result) return { state: 'pending' };
    post('Runtime.callFunctionOn', { objectId: oid, functionDeclaration: `function (v) { globalThis.${kSlot}_r = v; }`, arguments: [argOf(result)] });
    const g = globalThis as unknown as Record<string, unknown>;
    const value = g[`${kSlot}_r`];
    delete g[`${kSlot}_r`];
    return { state, value };
  });
}
