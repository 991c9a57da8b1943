/**
 * No cloud here: the deployment files are checked as far as this machine allows. yamllint (Debian's,
 * fetched by scripts/debian-tools.js when missing) lints them; the SAM template is parsed with its
 * CloudFormation tags and checked resource by resource against what `beehive package` builds and
 * what the agent needs; `beehive init` writes them where the artifact lands.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, type Tags } from 'yaml';
import { defaults } from '../../agent/config';
import { renderManifest } from '../openwhisk/manifest-template';

const ROOT = path.resolve(__dirname, '../..');
const TEMPLATE = path.join(ROOT, 'infra/aws/template.yaml');
const BIN = path.join(ROOT, 'dist/bin/beehive.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tools = require('../../scripts/debian-tools.js') as { yamllint(): string };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-deploy-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** CloudFormation's short-form intrinsics, kept as { fn, args } so references can be checked. */
interface Intrinsic {
  fn: string;
  args: unknown;
}
const cfnTags: Tags = ['Ref', 'Sub', 'GetAtt', 'If', 'Equals', 'Not', 'And', 'Or', 'Join', 'Select', 'Split', 'FindInMap', 'Base64', 'Cidr', 'ImportValue', 'GetAZs', 'Condition'].flatMap(
  (fn) =>
    (['scalar', 'seq'] as const).map((collection) => ({
      tag: `!${fn}`,
      collection: collection === 'scalar' ? undefined : collection,
      resolve: (value: unknown) => ({ fn, args: (value as { toJSON?: () => unknown })?.toJSON ? (value as { toJSON: () => unknown }).toJSON() : value }) as Intrinsic,
    })),
) as unknown as Tags;

function intrinsics(node: unknown, out: Intrinsic[] = []): Intrinsic[] {
  if (node && typeof node === 'object') {
    if ('fn' in node && 'args' in node) out.push(node as Intrinsic);
    for (const v of Object.values(node)) intrinsics(v, out);
  }
  return out;
}

const yamllintConfig = path.join(tmp, 'yamllint.yaml');

describe('deployment files', () => {
  let yamllint: string;
  let t: {
    Transform: string;
    Parameters: Record<string, { Type: string; Default?: unknown; MinValue?: number }>;
    Conditions: Record<string, unknown>;
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    Outputs: Record<string, { Value: unknown }>;
  };

  beforeAll(() => {
    yamllint = tools.yamllint();
    // Long lines are fine in a template (descriptions, !Sub strings); everything else is the default set.
    fs.writeFileSync(yamllintConfig, 'extends: default\nrules:\n  line-length: {max: 200}\n  comments: {min-spaces-from-content: 1}\n');
    t = parse(fs.readFileSync(TEMPLATE, 'utf8'), { customTags: cfnTags });
  });

  it('yamllint passes on the SAM template and the OpenWhisk manifest', () => {
    const manifest = path.join(tmp, 'manifest.yaml');
    fs.writeFileSync(manifest, renderManifest({ packageName: 'beehive', action: 'shop-worker', zip: '.beehive/openwhisk.zip', memoryMB: 256, timeoutMs: 60_000, concurrency: 1 }));
    for (const f of [TEMPLATE, manifest]) {
      const r = spawnSync(yamllint, ['-c', yamllintConfig, '-f', 'parsable', f], { encoding: 'utf8' });
      expect(r.stdout + r.stderr, f).toBe('');
      expect(r.status, f).toBe(0);
    }
    // And it does fail on a broken file (the check is not vacuous).
    const broken = path.join(tmp, 'broken.yaml');
    fs.writeFileSync(broken, 'a: 1\na: 2\n  b: [\n');
    expect(spawnSync(yamllint, ['-c', yamllintConfig, broken]).status).not.toBe(0);
  });

  it('the function runs the packaged artifact: CodeUri .beehive/lambda.zip, index.handler, nodejs22.x', () => {
    expect(t.Transform).toBe('AWS::Serverless-2016-10-31');
    const fn = t.Resources.WorkerFunction;
    expect(fn.Type).toBe('AWS::Serverless::Function');
    // A path, not a parameter: SAM uploads what the path names, relative to the template, which
    // `beehive init lambda` places in the app folder next to .beehive/.
    expect(fn.Properties.CodeUri).toBe('.beehive/lambda.zip');
    expect(fn.Properties.Handler).toBe('index.handler');
    expect(fn.Properties.Runtime).toBe('nodejs22.x');
    expect(fn.Properties.AutoPublishAlias).toBe('live');
  });

  it("the function's timeout is above the agent's invocation timeout", () => {
    const fn = t.Resources.WorkerFunction;
    expect(fn.Properties.Timeout).toEqual({ fn: 'Ref', args: 'Timeout' });
    const p = t.Parameters.Timeout;
    expect(Number(p.Default) * 1000).toBeGreaterThan(defaults.timeoutMs);
  });

  it('grants the server lambda:InvokeFunction on the function and its versions and aliases', () => {
    const pol = t.Resources.InvokePolicy;
    expect(pol.Type).toBe('AWS::IAM::ManagedPolicy');
    const stmts = (pol.Properties.PolicyDocument as { Statement: Array<{ Effect: string; Action: string | string[]; Resource: unknown[] }> }).Statement;
    const invoke = stmts.find((s) => s.Effect === 'Allow' && [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(invoke).toBeDefined();
    expect(invoke!.Resource).toEqual([
      { fn: 'GetAtt', args: 'WorkerFunction.Arn' },
      { fn: 'Sub', args: '${WorkerFunction.Arn}:*' },
    ]);
    expect(t.Outputs.InvokePolicy.Value).toEqual({ fn: 'Ref', args: 'InvokePolicy' });
  });

  it('every reference names a parameter, a resource, a condition or a pseudo parameter', () => {
    const known = new Set([...Object.keys(t.Parameters), ...Object.keys(t.Resources), 'AWS::NoValue', 'AWS::Region', 'AWS::AccountId', 'AWS::StackName', 'AWS::Partition']);
    const refs = intrinsics(t);
    expect(refs.length).toBeGreaterThan(5);
    for (const r of refs) {
      if (r.fn === 'Ref') expect(known, `!Ref ${r.args}`).toContain(r.args);
      if (r.fn === 'GetAtt') expect(t.Resources, `!GetAtt ${r.args}`).toHaveProperty(String(r.args).split('.')[0]);
      if (r.fn === 'Sub') for (const [, name] of String(r.args).matchAll(/\$\{([^}]+)\}/g)) expect(known, `!Sub \${${name}}`).toContain(name.split('.')[0]);
      if (r.fn === 'If') expect(t.Conditions, `!If ${JSON.stringify(r.args)}`).toHaveProperty(String((r.args as unknown[])[0]));
    }
    for (const [name, p] of Object.entries(t.Parameters)) expect(['String', 'Number'], name).toContain(p.Type);
  });

  it('the container image runs the same artifact on the Node 22 base image', () => {
    const d = fs.readFileSync(path.join(ROOT, 'infra/aws/Dockerfile'), 'utf8');
    expect(d).toMatch(/FROM public\.ecr\.aws\/lambda\/nodejs:22/);
    expect(d).not.toMatch(/nodejs:20/);
    expect(d).toMatch(/COPY \.beehive\/lambda\.zip/);
    expect(d).toMatch(/CMD \["index\.handler"\]/);
  });

  it('beehive init writes the template and the manifest into the app folder, and keeps existing files', () => {
    const app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: '@acme/shop', version: '1.0.0' }));
    const init = (...args: string[]) => spawnSync(process.execPath, [BIN, 'init', ...args, '--app', app], { encoding: 'utf8' });
    expect(init('lambda').status).toBe(0);
    expect(fs.readFileSync(path.join(app, 'template.yaml'), 'utf8')).toBe(fs.readFileSync(TEMPLATE, 'utf8'));
    expect(init('openwhisk').status).toBe(0);
    const m = parse(fs.readFileSync(path.join(app, 'manifest.yaml'), 'utf8'));
    expect(m.packages.beehive.actions['shop-worker']).toMatchObject({ function: '.beehive/openwhisk.zip', main: 'main', web: false });
    expect(m.packages.beehive.actions['shop-worker'].limits.timeout).toBeGreaterThan(defaults.timeoutMs);
    const again = init('lambda');
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/template\.yaml exists \(--force overwrites it\)/);
    expect(init('lambda', '--force').status).toBe(0);
    execFileSync(yamllint, ['-c', yamllintConfig, path.join(app, 'template.yaml'), path.join(app, 'manifest.yaml')]);
  });

  it('the deploy guides exist and name the commands they rely on', () => {
    const aws = fs.readFileSync(path.join(ROOT, 'docs/deploy-aws.md'), 'utf8');
    for (const s of ['beehive init lambda', 'beehive package lambda', 'sam deploy', 'lambda:InvokeFunction', 'BEEHIVE_CALLBACK_URL', 'BEEHIVE_LAMBDA_FUNCTION', 'nodejs22.x']) expect(aws, s).toContain(s);
    const ow = fs.readFileSync(path.join(ROOT, 'docs/deploy-openwhisk.md'), 'utf8');
    for (const s of ['beehive init openwhisk', 'beehive package openwhisk', 'wskdeploy', 'BEEHIVE_CALLBACK_URL', 'BEEHIVE_OPENWHISK_ACTION']) expect(ow, s).toContain(s);
  });
});
