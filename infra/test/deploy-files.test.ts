import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';

const read = (p: string) => fs.readFileSync(path.resolve(__dirname, '..', p), 'utf8');

// No cloud here: check that the deployment files agree with what `beehive package` builds.
describe('deployment files', () => {
  it('SAM template runs the packaged index.handler on nodejs20.x from the zip', () => {
    const t = read('aws/template.yaml');
    expect(t).toMatch(/Transform: AWS::Serverless-2016-10-31/);
    expect(t).toMatch(/Handler: index\.handler/);
    expect(t).toMatch(/Runtime: nodejs20\.x/);
    expect(t).toMatch(/Default: \.beehive\/lambda\.zip/);
    expect(t).toMatch(/ReservedConcurrentExecutions/);
  });

  it('Dockerfile copies the unpacked artifact into the task root with CMD index.handler', () => {
    const d = read('aws/Dockerfile');
    expect(d).toMatch(/FROM public\.ecr\.aws\/lambda\/nodejs:20/);
    expect(d).toMatch(/COPY \.beehive\/lambda\.zip/);
    expect(d).toMatch(/\$\{LAMBDA_TASK_ROOT\}/);
    expect(d).toMatch(/CMD \["index\.handler"\]/);
  });
});
