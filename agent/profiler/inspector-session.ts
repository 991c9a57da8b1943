/**
 * Synchronous use of an in-process `node:inspector` Session: `Runtime.*` and `Profiler.*` reply
 * before `post` returns, so the profiler needs no promises and no event-loop turn.
 */
import { Session } from 'node:inspector';
import { ProfilerErrors } from './errors';

export type Post = <T = Record<string, unknown>>(method: string, params?: Record<string, unknown>) => T;

export function connectSession(): { post: Post; close(): void } {
  const session = new Session();
  session.connect();
  const post: Post = <T>(method: string, params?: Record<string, unknown>): T => {
    let error: Error | null = null;
    let result: unknown;
    let replied = false;
    session.post(method, params ?? {}, (err: Error | null, res: unknown) => {
      error = err;
      result = res;
      replied = true;
    });
    if (!replied) throw ProfilerErrors.INSPECTOR(method);
    if (error) throw error;
    return result as T;
  };
  return { post, close: () => session.disconnect() };
}

export interface FunctionLocation {
  scriptId: string;
  lineNumber: number;
  columnNumber: number;
}

interface RemoteObject { objectId?: string; value?: unknown }
interface InternalProperty { name: string; value?: RemoteObject }

const kSlot = Symbol.for('beehive.profiler.locate');

/** Where `fn` is defined (bound functions followed to their target); undefined for native code. */
export function locateFunction(post: Post, fn: Function): FunctionLocation | undefined {
  const g = globalThis as unknown as Record<symbol, unknown>;
  g[kSlot] = fn;
  const group = 'beehive-profiler';
  try {
    const { result } = post<{ result: RemoteObject }>('Runtime.evaluate', {
      expression: "globalThis[Symbol.for('beehive.profiler.locate')]",
      objectGroup: group,
    });
    let objectId = result.objectId;
    // A bound function has no location of its own: follow [[TargetFunction]] (bounded, bind of bind).
    for (let depth = 0; objectId && depth < 8; depth++) {
      const { internalProperties = [] } = post<{ internalProperties?: InternalProperty[] }>('Runtime.getProperties', {
        objectId,
        ownProperties: true,
      });
      const loc = internalProperties.find((p) => p.name === '[[FunctionLocation]]');
      if (loc?.value?.value) return loc.value.value as FunctionLocation;
      objectId = internalProperties.find((p) => p.name === '[[TargetFunction]]')?.value?.objectId;
    }
    return undefined;
  } finally {
    delete g[kSlot];
    post('Runtime.releaseObjectGroup', { objectGroup: group });
  }
}

export const locationKey = (l: FunctionLocation): string => `${l.scriptId}:${l.lineNumber}:${l.columnNumber}`;
