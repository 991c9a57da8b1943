/**
 * Coded errors of packaging and the local platform emulators. The emulators' HTTP answers use the
 * platforms' own error shapes (a faithful emulator must); these codes are for the CLI and the
 * programmatic API. Documented in docs/errors/platform.md.
 */
import { defineErrors } from '../protocol';

export const PackageErrors = defineErrors('PACKAGE', {
  APP_NOT_FOUND: 'no package.json in the app folder',
  DEPENDENCY_MISSING: 'a production dependency is not installed',
  RUNTIME_NOT_BUILT: 'the worker runtime is not built (run npm run build)',
  TOO_LARGE: 'the artifact exceeds the platform limit',
});

export const EmulatorErrors = defineErrors('EMULATOR', {
  ARTIFACT: 'the function artifact cannot be used',
  FUNCTION_SPEC: 'bad function specification',
  LISTEN: 'the emulator cannot listen',
});
