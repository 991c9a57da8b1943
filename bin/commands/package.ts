/**
 * `beehive package lambda|openwhisk [--out FILE] [--app DIR]`: builds the worker artifact from the
 * app in the current folder and reports its sizes. Above the platform's limits it prints one line
 * with the coded error and exits 1.
 */
import { packageApp, formatBytes, type PackageReport } from '../../infra';
import { BeehiveError } from '../../protocol';
import { parseFlags, UsageError, type Command } from './registry';

const usage = `usage: beehive package lambda|openwhisk [--out FILE] [--app DIR] [--json]

Builds a deployable zip: the BeeHive worker runtime and the app's production dependencies
(native addons included), with index.js exporting Lambda's handler or OpenWhisk's main.
Run it from the app's folder (the one with package.json) or give --app.

  --out FILE   output zip (default .beehive/<platform>.zip in the app folder)
  --app DIR    app folder (default: current folder)
  --json       print the report as JSON

Limits: Lambda 50 MB zipped / 250 MB unzipped; OpenWhisk 48 MB.
Deploy: node_modules/beehive/infra/aws/template.yaml (SAM; its CodeUri is .beehive/lambda.zip)
or infra/aws/Dockerfile for Lambda, see node_modules/beehive/docs/deploy-aws.md; the generated
.beehive/manifest.yaml (wskdeploy) for OpenWhisk, see docs/deploy-openwhisk.md.
`;

function print(r: PackageReport): void {
  const lines = [
    `wrote ${r.out}`,
    `  zipped   ${formatBytes(r.zippedBytes).padStart(10)}  (limit ${formatBytes(r.limits.zippedBytes)})`,
    `  unzipped ${formatBytes(r.unzippedBytes).padStart(10)}  (limit ${Number.isFinite(r.limits.unzippedBytes) ? formatBytes(r.limits.unzippedBytes) : 'none'})`,
    `  files    ${String(r.files).padStart(10)}`,
    '  largest (unzipped):',
    ...r.top.map((t) => `    ${formatBytes(t.bytes).padStart(10)}  ${t.name}`),
  ];
  if (r.nativeAddons.length) lines.push(`  native addons: ${r.nativeAddons.join(', ')}`);
  if (r.manifest) lines.push(`  manifest ${r.manifest}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export const command: Command = {
  summary: 'build the Lambda or OpenWhisk worker artifact of the app',
  usage,
  async run(argv) {
    const parsed = parseFlags(argv, { out: { type: 'string' }, app: { type: 'string' }, json: { type: 'boolean' } }, true);
    const values = parsed.values as { out?: string; app?: string; json?: boolean };
    const { positionals } = parsed;
    if (positionals.length !== 1) throw new UsageError('expected one platform: lambda or openwhisk');
    const platform = positionals[0];
    if (platform !== 'lambda' && platform !== 'openwhisk') throw new UsageError(`unknown platform '${platform}' (expected lambda or openwhisk)`);
    if (values.out === '' || values.app === '') throw new UsageError('--out and --app need a value');
    try {
      const report = await packageApp({ platform, appDir: values.app ?? process.cwd(), out: values.out });
      if (values.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else print(report);
      return 0;
    } catch (err) {
      // No app where --app (or the current folder) points: the command line is wrong.
      if (err instanceof BeehiveError && err.code === 'BEEHIVE_ERR_PACKAGE_APP_NOT_FOUND') {
        throw new UsageError(`${values.app ? `--app ${values.app}` : `the current folder (${process.cwd()})`} is not an app folder: it has no package.json (run it from the app's folder or give --app)`);
      }
      if (err instanceof BeehiveError) {
        process.stderr.write(`beehive package: ${err.code}: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
