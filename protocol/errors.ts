/**
 * Errors with stable codes. Every area of the product defines its errors in one registry
 * (`<area>/errors.ts`) with `defineErrors`; codes read `BEEHIVE_ERR_<AREA>_<WHAT>` and are listed in
 * ERRORS.md at the repository root (a test checks that every code is documented, and that no
 * source throws an error without one).
 *
 * A registry spells each code out in full where it defines it, so that a code found in a log greps
 * straight to its definition (TypeScript checks the spelling against the area and the key):
 *
 *     defineErrors('CODEC', { MALFORMED: ['BEEHIVE_ERR_CODEC_MALFORMED', 'malformed closure stream'] })
 *
 * A third element makes the error a TypeError or RangeError (argument and option checks) or a
 * SyntaxError, as Node's own coded errors are; it is a BeehiveError all the same (`instanceof`, `code`).
 */
const kCoded = Symbol.for('beehive.error.coded');

export class BeehiveError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'BeehiveError';
  }

  /** Errors of every registry, whichever built-in error they extend. */
  static [Symbol.hasInstance](v: unknown): boolean {
    if (this !== BeehiveError) return Function.prototype[Symbol.hasInstance].call(this, v);
    return typeof v === 'object' && v !== null && (v as { [kCoded]?: unknown })[kCoded] === true;
  }
}
Object.defineProperty(BeehiveError.prototype, kCoded, { value: true });

/** A coded TypeError or RangeError (what an argument or option check throws), or SyntaxError. */
function codedBuiltin<B extends ErrorBase>(Base: B) {
  class Coded extends Base {
    readonly code: string;
    constructor(code: string, message: string, options?: { cause?: unknown }) {
      super(message, options);
      this.code = code;
    }
  }
  Object.defineProperty(Coded.prototype, kCoded, { value: true });
  Object.defineProperty(Coded.prototype, 'name', { value: Base.name, writable: true, configurable: true });
  // It reads as the built-in it is (`TypeError [BEEHIVE_ERR_...]`-style, as Node's coded errors).
  Object.defineProperty(Coded, 'name', { value: Base.name });
  return Coded;
}
const BASES = new Map<ErrorBase, new (code: string, message: string, options?: { cause?: unknown }) => BeehiveError>([
  [TypeError, codedBuiltin(TypeError) as never],
  [RangeError, codedBuiltin(RangeError) as never],
  [SyntaxError, codedBuiltin(SyntaxError) as never],
]);

export type ErrorBase = typeof TypeError | typeof RangeError | typeof SyntaxError;

export type ErrorFactory = ((message?: string, options?: { cause?: unknown }) => BeehiveError) & {
  readonly code: string;
  is(err: unknown): boolean;
};

/** One error of a registry: its full code, its message, and optionally the built-in it extends. */
export type ErrorSpec<A extends string, K extends string> = readonly [code: `BEEHIVE_ERR_${A}_${K}`, message: string, base?: ErrorBase];

/** Builds a registry of coded error factories: `E.CHANNEL_AUTH('bad token')`. */
export function defineErrors<A extends string, K extends string>(area: A, table: { [P in K]: ErrorSpec<A, P> }): Record<K, ErrorFactory> {
  const out = {} as Record<K, ErrorFactory>;
  for (const key of Object.keys(table) as K[]) {
    const spec = table[key] as ErrorSpec<A, K>;
    const [code, fallback, base] = spec;
    const Make = (base && BASES.get(base)) || BeehiveError;
    const make = ((message?: string, options?: { cause?: unknown }) => new Make(code, message ? `${fallback}: ${message}` : fallback, options)) as ErrorFactory;
    Object.defineProperty(make, 'code', { value: code });
    Object.defineProperty(make, 'is', { value: (err: unknown) => err instanceof Error && (err as BeehiveError).code === code });
    out[key] = make;
  }
  return out;
}

/** Every registry built so far, for the documentation test. */
export const allErrorCodes = (registries: Array<Record<string, ErrorFactory>>): string[] =>
  registries.flatMap((r) => Object.values(r).map((f) => f.code));
