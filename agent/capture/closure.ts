import Module from 'node:module';
import type { EncodeHooks, Replacement } from '../../protocol';
import { encode, isCodecBuiltin, refKindOf } from '../../protocol';
import type { Lease } from '../../gc';
import { CaptureErrors } from './errors';
import { encodeFunction, functionInfo } from './function-record';
import { functionLocation } from './inspector';
import { originOf } from './module-index';

/** A stand-in for a module's `require`: it travels as the module's file name. */
export class RequireOf {
  constructor(readonly file: string) {}
}
/** A stand-in for `process`: the worker sees the server's `process.env` (DESIGN.md §3 step 4). */
export class ProcessView {}

const isRequireFn = (v: unknown): v is NodeJS.Require =>
  typeof v === 'function' && (v as NodeJS.Require).cache === (Module as unknown as { _cache: unknown })._cache && typeof (v as NodeJS.Require).resolve === 'function';

const isExpressApp = (v: unknown): v is { locals: unknown; settings: unknown } =>
  typeof v === 'function' && typeof (v as { handle?: unknown }).handle === 'function' && typeof (v as { set?: unknown }).set === 'function' &&
  !!(v as { settings?: unknown }).settings && !!(v as { locals?: unknown }).locals;

/** Turns an object with native state (a pg client) into a record, now or after a control call. */
export type Packer = (o: object) => { unpacker: string } | Promise<{ unpacker: string }> | undefined;

export interface CaptureOptions {
  lease: Lease;
  /** The value a fallback fetch asked for: shipped as itself, never as a reference. */
  root?: unknown;
  /** Packageables beyond `[Symbol.for('beehive.pack')]`: the pg client and pool. */
  pack?: Packer;
  /**
   * Packs still being prepared (a control call to the proxy): the closure carries a numbered
   * placeholder and the worker asks the channel for the record when it unpacks it. The capture
   * itself stays synchronous — one consistent snapshot of the state.
   */
  deferPack?(record: Promise<{ unpacker: string }>): number;
  /** Approximate bytes to ship inline; the rest goes as remote references. */
  budget: number;
  /** Server ids the worker fetched in earlier runs of this handler: shipped inline (refinement). */
  refined?: Set<number>;
  peekId?(o: object): number | undefined;
}

export interface Captured {
  bytes: Buffer;
  objects: number;
  refs: number;
}

/** Encoding hooks for anything the server ships to a worker under one invocation's lease. */
/**
 * Objects the capture itself builds around the app's values (a function's captured-variable
 * record, the request snapshot): new at every capture, always inline — as references they would
 * each cost a fallback.
 */
const structural = new WeakSet<object>();
export function markStructural(...objs: unknown[]): void {
  for (const o of objs) if (o !== null && typeof o === 'object') structural.add(o);
}

/**
 * Objects a handler rarely touches but every closure would carry (Express's settings): always remote
 * references, fetched on first touch — unless refinement saw this handler touch them.
 */
const lazy = new WeakSet<object>();
export function markLazy(o: object): void {
  lazy.add(o);
}

export function serverEncodeHooks(opts: CaptureOptions): EncodeHooks {
  const refined = opts.refined;
  const isRefined = (o: object) => !!refined?.size && refined.has(opts.peekId?.(o) ?? -1);
  return {
    budget: opts.budget,
    idOf: (o) => opts.lease.grant(o),
    overBudget: (o, kind) => ({ ref: opts.lease.grant(o), kind }),
    mustInline: (o) => structural.has(o) || isRefined(o),
    replace: (o) =>
      (lazy.has(o) && o !== opts.root && !isRefined(o) ? { ref: opts.lease.grant(o), kind: refKindOf(o) } : undefined) ??
      packFor(o, opts) ??
      libraryFunctionRef(o, opts) ??
      replaceForWorker(o),
  };
}

function packFor(o: object, opts: CaptureOptions): Replacement | undefined {
  if (!opts.pack) return undefined;
  const r = opts.pack(o);
  if (!r) return undefined;
  if (typeof (r as Promise<unknown>).then === 'function') {
    if (!opts.deferPack) throw CaptureErrors.UNSUPPORTED('an asynchronous pack outside an invocation');
    return { custom: 'pack', data: { unpacker: 'deferred', pack: opts.deferPack(r as Promise<{ unpacker: string }>) } };
  }
  return { custom: 'pack', data: r };
}

/** Functions of node_modules packages that are not reachable as module members. */
const libraryFn = new WeakMap<Function, boolean>();

/**
 * A package's internal function (an Express setting's `etag fn`, a logger's closure) travels as a
 * remote reference: most handlers never call it, and its code would drag the package's internals
 * along. Called on the worker, it is fetched then, as code.
 */
function libraryFunctionRef(o: object, opts: CaptureOptions): Replacement | undefined {
  if (typeof o !== 'function' || o === opts.root || originOf(o)) return undefined;
  let lib = libraryFn.get(o);
  if (lib === undefined) {
    const url = functionLocation(o)?.url ?? '';
    lib = url.includes('/node_modules/');
    libraryFn.set(o, lib);
  }
  return lib ? { ref: opts.lease.grant(o), kind: refKindOf(o) } : undefined;
}

function replaceForWorker(o: object): Replacement | undefined {
  if (o instanceof RequireOf) return { custom: 'require', data: o.file };
  if (o instanceof ProcessView) return { custom: 'process', data: { env: { ...process.env } } };
  const origin = originOf(o);
  if (origin) return origin;
  if (isExpressApp(o)) {
    // The app itself stays on the server: the worker gets its view of it, settings and locals.
    markLazy(o.settings as object);
    return { custom: 'express-app', data: { locals: o.locals, settings: o.settings } };
  }
  const pack = (o as Record<symbol, unknown>)[Symbol.for('beehive.pack')];
  if (typeof pack === 'function' && typeof o === 'object') {
    const rec = (pack as () => { unpacker: string; record: unknown }).call(o);
    if (!rec || typeof rec.unpacker !== 'string') throw CaptureErrors.UNSUPPORTED(`[Symbol.for('beehive.pack')]() of ${o.constructor?.name} did not return { unpacker, record }`);
    return { custom: 'pack', data: rec };
  }
  if (typeof o === 'function') {
    if (isRequireFn(o)) throw CaptureErrors.UNSUPPORTED('a require function reached through data');
    const info = functionInfo(o);
    if (info.reason) throw CaptureErrors.UNSUPPORTED(info.reason);
    const enc = encodeFunction(o, info);
    const vars = (enc.data as { vars: Record<string, unknown> }).vars;
    markStructural(enc.data, vars);
    for (const [k, v] of Object.entries(vars)) if (k === 'require' && isRequireFn(v)) vars[k] = new RequireOf(info.file ?? '');
    if (info.globals.includes('process')) vars.process = new ProcessView();
    return { fn: enc };
  }
  const kind = refKindOf(o);
  if (kind === 'instance' && !isCodecBuiltin(o)) {
    const ctor = Object.getPrototypeOf(o).constructor as Function;
    if (!originOf(ctor)) {
      let info;
      try {
        info = functionInfo(ctor);
      } catch (err) {
        throw CaptureErrors.UNSUPPORTED(`an instance of ${ctor.name} holds native state: ${(err as Error).message}`);
      }
      if (info.analysis.hasPrivate) throw CaptureErrors.PRIVATE(`class ${ctor.name}${info.file ? ` (${info.file})` : ''}`);
    }
  }
  return undefined;
}

export function captureClosure(root: unknown, opts: CaptureOptions): Captured {
  const res = encode(root, serverEncodeHooks(opts));
  return { bytes: res.bytes, objects: res.objects, refs: res.refs };
}


/**
 * Pays the one-time costs of capture (the inspector's script table, the index of built-in modules)
 * before the first request that needs them: about 150 ms otherwise spent on that request.
 */
export function warmUpCapture(): void {
  functionInfo(function beehiveWarmUp() {});
  originOf(Math);
}
