/**
 * Coded errors of packaging and the local platform emulators. The emulators' HTTP answers use the
 * platforms' own error shapes (a faithful emulator must); these codes are for the CLI and the
 * programmatic API. Documented in docs/errors/platform.md.
 */
import { defineErrors } from '../protocol';

export const PackageErrors = defineErrors('PACKAGE', {
  APP_NOT_FOUND: ['BEEHIVE_ERR_PACKAGE_APP_NOT_FOUND', 'no package.json in the app folder'],
  DEPENDENCY_MISSING: ['BEEHIVE_ERR_PACKAGE_DEPENDENCY_MISSING', 'a production dependency is not installed'],
  RUNTIME_NOT_BUILT: ['BEEHIVE_ERR_PACKAGE_RUNTIME_NOT_BUILT', 'the worker runtime is not built (run npm run build)'],
  TOO_LARGE: ['BEEHIVE_ERR_PACKAGE_TOO_LARGE', 'the artifact exceeds the platform limit'],
});

export const EmulatorErrors = defineErrors('EMULATOR', {
  ARTIFACT: ['BEEHIVE_ERR_EMULATOR_ARTIFACT', 'the function artifact cannot be used'],
  FUNCTION_SPEC: ['BEEHIVE_ERR_EMULATOR_FUNCTION_SPEC', 'bad function specification'],
  LISTEN: ['BEEHIVE_ERR_EMULATOR_LISTEN', 'the emulator cannot listen'],
  USAGE: ['BEEHIVE_ERR_EMULATOR_USAGE', 'bad emulator arguments'],
});
