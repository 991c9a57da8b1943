import type { RefKind } from './tags';

/** How a function travels: a code record the receiving side rebuilds (see offload-worker/rebuild). */
export interface FunctionEncoding {
  /** Opaque to the codec: the code record (source, kind, name...). Identical headers share compiled code. */
  header: string;
  /** Decoded before the function is created: what its creation needs (a class's superclass). */
  pre?: unknown;
  /** Decoded after: the function's captured variables. */
  data: unknown;
}

export type Replacement =
  | { ref: number; kind: RefKind }
  | { custom: string; data: unknown }
  | { fn: FunctionEncoding };

export interface EncodeHooks {
  /**
   * Called once per object or function before the built-in rules; undefined keeps the built-in rules.
   * `unplanned`: asked by an unplanned first pass (`unplannedFirst`), which may reach objects a
   * planned stream leaves outside — a hook whose answer has side effects (a pack) throws instead, and
   * the stream is planned.
   */
  replace?(value: object, unplanned?: boolean): Replacement | undefined;
  /** Identity on the encoding side, carried with every object so the other side can map copies back. */
  idOf?(value: object): number | undefined;
  /** Approximate bytes to inline; objects beyond it are passed to `overBudget`. Default: no budget. */
  budget?: number;
  /**
   * With a budget: encode without planning first, and plan (then encode again) only a stream that
   * goes past the budget or deeper than `maxDepth`, or meets anything refused (the planned stream
   * may leave it outside; else it is refused as planned). The plan, a breadth-first pass over the whole
   * graph, cost about as much as encoding a small closure (7-9 % of the server's CPU per offload,
   * measured). Hook side effects of the first pass stay (idOf twice for an object is one identity);
   * `replace` is asked once per object for both passes.
   */
  unplannedFirst?: boolean;
  /** Objects that go inline whatever the budget (refinement: what a worker fetched last time). */
  mustInline?(value: object): boolean;
  /** Turns an object left out (budget, depth) into a remote reference. */
  overBudget?(value: object, kind: RefKind): { ref: number; kind: RefKind };
  /** Private fields of a class instance, as [name, value] pairs. */
  privates?(value: object): Array<[string, unknown]> | undefined;
  /** An identity for a symbol that is neither registered nor well-known; undefined refuses it. */
  symbolId?(s: symbol): number | undefined;
  /** A name both sides resolve to their own symbol (a Node class's internal key, 'events:kCapture'). */
  symbolName?(s: symbol): string | undefined;
  /** Nesting beyond which objects become remote references (or an error without overBudget). Default 1000. */
  maxDepth?: number;
}

export interface DecodeHooks {
  /** Resolves a remote reference: a Proxy on the worker, the real object on the server. */
  ref?(ref: number, kind: RefKind): unknown;
  custom?(tag: string, data: unknown): unknown;
  /** The symbol the other side identified as `id` (see EncodeHooks.symbolId). */
  symbol?(id: number, description: string): symbol;
  /** This side's symbol for a name from EncodeHooks.symbolName. */
  namedSymbol?(name: string): symbol | undefined;
  createFunction?(header: string, pre: unknown, id: number): Function;
  fillFunction?(fn: Function, data: unknown): void;
  setPrivates?(obj: object, entries: Array<[string, unknown]>): void;
  /** Called for every decoded object that carried an identity. */
  onObject?(obj: object, id: number): void;
  /**
   * An object this side already holds for `id`: the stream's contents are decoded into it (its old
   * contents cleared) instead of a new object. Used to refresh copies in place after a lock acquire.
   */
  reuse?(id: number): object | undefined;
  /**
   * An object this side already holds for `id`, kept as it is: a later stream (a fallback fetch)
   * that carries the same object again resolves to it rather than to a second copy, so identity —
   * and what the holder already changed — is kept. The stream's copy is decoded as scratch.
   */
  existing?(id: number): object | undefined;
  /** Maximum nesting accepted. Default 1100. */
  maxDepth?: number;
  /** Maximum objects accepted in one stream. Default 1,000,000. */
  maxObjects?: number;
}
