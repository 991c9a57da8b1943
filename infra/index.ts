/**
 * Packaging and local platform emulators: `beehive package` and `beehive emulate` are built on
 * this facade, and tests start the emulators through it.
 */
export { startLambdaEmulator, type LambdaEmulator, type LambdaEmulatorOptions } from './emulators/lambda/server';
export type { FunctionSpec } from './emulators/common/function-spec';
export { parseFunctionFlag } from './emulators/common/function-spec';
export { parseListen } from './emulators/common/http';
export { PackageErrors, EmulatorErrors } from './errors';
export { startOpenWhiskEmulator, GUEST_KEY, type OpenWhiskEmulator, type OpenWhiskEmulatorOptions } from './emulators/openwhisk/server';
export type { ActivationRecord } from './emulators/openwhisk/activation';
export { renderManifest } from './openwhisk/manifest-template';
export { packageApp, findBeehiveRoot, LIMITS as PACKAGE_LIMITS, fmt as formatBytes, type PackageOptions, type PackageReport, type Platform } from './package/packager';
export { parseEmulateFlags, startEmulator, type EmulateConfig } from './emulators/cli';
export { startTestPlatform, type TestPlatform, type TestPlatformOptions } from './emulators/test-platform';
