/**
 * Errors with stable codes. Every area of the product defines its errors in one registry
 * (`<area>/errors.ts`) with `defineErrors`; codes read `BEEHIVE_ERR_<AREA>_<WHAT>` and are listed in
 * ERRORS.md at the repository root (a test checks that every code is documented).
 */
export class BeehiveError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'BeehiveError';
  }
}

export type ErrorFactory = ((message?: string, options?: { cause?: unknown }) => BeehiveError) & {
  readonly code: string;
  is(err: unknown): boolean;
};

/** Builds a registry of coded error factories: `E.CHANNEL_AUTH('bad token')`. */
export function defineErrors<K extends string>(area: string, table: Record<K, string>): Record<K, ErrorFactory> {
  const out = {} as Record<K, ErrorFactory>;
  for (const key of Object.keys(table) as K[]) {
    const code = `BEEHIVE_ERR_${area}_${key}`;
    const fallback = table[key];
    const make = ((message?: string, options?: { cause?: unknown }) =>
      new BeehiveError(code, message ? `${fallback}: ${message}` : fallback, options)) as ErrorFactory;
    Object.defineProperty(make, 'code', { value: code });
    Object.defineProperty(make, 'is', { value: (err: unknown) => err instanceof Error && (err as BeehiveError).code === code });
    out[key] = make;
  }
  return out;
}

/** Every registry built so far, for the documentation test. */
export const allErrorCodes = (registries: Array<Record<string, ErrorFactory>>): string[] =>
  registries.flatMap((r) => Object.values(r).map((f) => f.code));
