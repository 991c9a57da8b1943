/**
 * `beehive init lambda|openwhisk [--app DIR] [--force]`: writes the deployment file of the platform
 * into the app's folder, where `beehive package` writes the artifact it points at: `template.yaml`
 * (SAM, CodeUri .beehive/lambda.zip) or `manifest.yaml` (wskdeploy, function .beehive/openwhisk.zip).
 */
import fs from 'node:fs';
import path from 'node:path';
import { productVersion } from '../../agent';
import { findBeehiveRoot, renderManifest } from '../../infra';
import { parseFlags, UsageError, type Command } from './registry';

const usage = `usage: beehive init lambda|openwhisk [--app DIR] [--force]

Writes the platform's deployment file into the app folder (default: the current folder):
  lambda      template.yaml  AWS SAM: the worker function (CodeUri .beehive/lambda.zip, nodejs22.x)
                             and a managed policy letting the server invoke it
  openwhisk   manifest.yaml  wskdeploy: the worker action (function .beehive/openwhisk.zip)
Then 'beehive package <platform>' builds the artifact; docs/deploy-aws.md and
docs/deploy-openwhisk.md (in node_modules/beehive) go through the rest.

  --app DIR   app folder (default: current folder)
  --force     overwrite an existing file
`;

export const command: Command = {
  summary: 'write the SAM template or wskdeploy manifest into the app folder',
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { app: { type: 'string' }, force: { type: 'boolean' } }, true);
    if (positionals.length !== 1) throw new UsageError('expected one platform: lambda or openwhisk');
    const platform = positionals[0];
    if (platform !== 'lambda' && platform !== 'openwhisk') throw new UsageError(`unknown platform '${platform}' (expected lambda or openwhisk)`);
    const app = path.resolve((values.app as string | undefined) ?? process.cwd());
    const pj = path.join(app, 'package.json');
    if (!fs.existsSync(pj)) throw new UsageError(`${values.app ? `--app ${values.app}` : `the current folder (${app})`} is not an app folder: it has no package.json`);
    const out = path.join(app, platform === 'lambda' ? 'template.yaml' : 'manifest.yaml');
    if (fs.existsSync(out) && !values.force) throw new UsageError(`${out} exists (--force overwrites it)`);
    let text: string;
    if (platform === 'lambda') {
      text = fs.readFileSync(path.join(findBeehiveRoot(__dirname), 'infra/aws/template.yaml'), 'utf8');
    } else {
      const name = String((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name ?? 'app');
      const action = name.replace(/^@[^/]+\//, '').replace(/[^A-Za-z0-9_-]/g, '-');
      text = renderManifest({ packageName: 'beehive', action: `${action}-worker`, zip: '.beehive/openwhisk.zip', memoryMB: 256, timeoutMs: 60_000, concurrency: 1 });
    }
    fs.writeFileSync(out, text);
    const next =
      platform === 'lambda'
        ? ['npx beehive package lambda     # .beehive/lambda.zip', 'sam deploy --guided             # then: see the stack outputs']
        : ['npx beehive package openwhisk  # .beehive/openwhisk.zip', 'wskdeploy -m manifest.yaml'];
    process.stdout.write(`wrote ${out} (beehive ${productVersion()})\nnext:\n${next.map((l) => `  ${l}`).join('\n')}\n`);
    return 0;
  },
};
