/**
 * Option validation for the FaaS providers, piscina-style: a defaults object, and a TypeError or
 * RangeError naming the option at construction, so that a typo fails at start-up and not at the
 * first offloaded request.
 */
import { ProviderOptionErrors } from './option-errors';

export function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw ProviderOptionErrors.OPTION_TYPE(`options.${name} must be a non-empty string`);
  return value;
}

export function optionalString(value: unknown, name: string): string | undefined {
  return value === undefined ? undefined : nonEmptyString(value, name);
}

export function httpUrl(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw ProviderOptionErrors.OPTION_TYPE(`options.${name} must be an http(s) URL`);
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw ProviderOptionErrors.OPTION_TYPE(`options.${name} must be an http(s) URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw ProviderOptionErrors.OPTION_TYPE(`options.${name} must be an http(s) URL`);
  return value;
}

export function integerIn(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw ProviderOptionErrors.OPTION_TYPE(`options.${name} must be an integer`);
  if (value < min || value > max) throw ProviderOptionErrors.OPTION_RANGE(`options.${name} must be between ${min} and ${max}`);
  return value;
}

export function boolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw ProviderOptionErrors.OPTION_TYPE(`options.${name} must be a boolean`);
  return value;
}

export function plainObject(value: unknown, name: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw ProviderOptionErrors.OPTION_TYPE(`${name} must be an object`);
  return value as Record<string, unknown>;
}

/** Rejects unknown option names: a misspelt option would otherwise be ignored silently. */
export function knownKeys(opts: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw ProviderOptionErrors.OPTION_TYPE(`options.${k} is not a known option`);
  }
}

/** A number from the environment, or undefined; a non-number stays as is so validation names it. */
export function envNumber(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isNaN(n) ? (v as unknown as number) : n;
}
