/**
 * Errors of the admin API. Each code maps to one HTTP status; the body is always
 * `{ "error": { "code", "message" } }` so scripts can branch on `code` and people can read `message`.
 * Every code is listed in docs/errors/admin.md (a test checks it).
 */
import { defineErrors, type BeehiveError, type ErrorFactory } from '../../protocol';

export const AdminErrors = defineErrors('ADMIN', {
  UNAUTHORIZED: ['BEEHIVE_ERR_ADMIN_UNAUTHORIZED', 'A bearer token is required for changes'],
  FORBIDDEN: ['BEEHIVE_ERR_ADMIN_FORBIDDEN', 'The bearer token is not valid'],
  CHANGES_DISABLED: ['BEEHIVE_ERR_ADMIN_CHANGES_DISABLED', 'Changes are disabled because no admin token is configured'],
  HOST_NOT_ALLOWED: ['BEEHIVE_ERR_ADMIN_HOST_NOT_ALLOWED', 'The Host header does not name this loopback server'],
  BAD_JSON: ['BEEHIVE_ERR_ADMIN_BAD_JSON', 'The request body is not valid JSON'],
  BAD_RATIO: ['BEEHIVE_ERR_ADMIN_BAD_RATIO', 'ratio must be a number from 0 to 1'],
  BAD_MODE: ['BEEHIVE_ERR_ADMIN_BAD_MODE', 'mode must be one of "auto", "off", "always"'],
  BAD_HANDLER_ID: ['BEEHIVE_ERR_ADMIN_BAD_HANDLER_ID', 'The handler id is not a valid URL-encoded string'],
  UNKNOWN_HANDLER: ['BEEHIVE_ERR_ADMIN_UNKNOWN_HANDLER', 'No handler has this id'],
  NOT_FOUND: ['BEEHIVE_ERR_ADMIN_NOT_FOUND', 'No such route'],
  METHOD_NOT_ALLOWED: ['BEEHIVE_ERR_ADMIN_METHOD_NOT_ALLOWED', 'Method not allowed on this route'],
  BODY_TOO_LARGE: ['BEEHIVE_ERR_ADMIN_BODY_TOO_LARGE', 'The request body is too large'],
  UNSUPPORTED_MEDIA_TYPE: ['BEEHIVE_ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE', 'The request body must be application/json'],
  INTERNAL: ['BEEHIVE_ERR_ADMIN_INTERNAL', 'The agent failed to serve the request'],
  LISTEN_FAILED: ['BEEHIVE_ERR_ADMIN_LISTEN_FAILED', 'The admin server cannot listen on the configured address'],
});

/** HTTP status of each admin error code. */
export const kStatus: Record<string, number> = {
  [AdminErrors.UNAUTHORIZED.code]: 401,
  [AdminErrors.FORBIDDEN.code]: 403,
  [AdminErrors.CHANGES_DISABLED.code]: 403,
  [AdminErrors.HOST_NOT_ALLOWED.code]: 403,
  [AdminErrors.BAD_JSON.code]: 400,
  [AdminErrors.BAD_RATIO.code]: 400,
  [AdminErrors.BAD_MODE.code]: 400,
  [AdminErrors.BAD_HANDLER_ID.code]: 400,
  [AdminErrors.UNKNOWN_HANDLER.code]: 404,
  [AdminErrors.NOT_FOUND.code]: 404,
  [AdminErrors.METHOD_NOT_ALLOWED.code]: 405,
  [AdminErrors.BODY_TOO_LARGE.code]: 413,
  [AdminErrors.UNSUPPORTED_MEDIA_TYPE.code]: 415,
  [AdminErrors.INTERNAL.code]: 500,
};

export const adminErrorRegistries: Array<Record<string, ErrorFactory>> = [AdminErrors];

export function statusOf(err: BeehiveError): number {
  return kStatus[err.code] ?? 500;
}
