/** Shared test helpers: fixture paths, a real Lambda SDK client, a gate server for "hold" invocations. */
import http from 'node:http';
import path from 'node:path';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { LambdaClient, InvokeCommand, type InvokeCommandOutput } from '@aws-sdk/client-lambda';

export const FIXTURES = path.join(__dirname, 'fixtures');
export const FN = path.join(FIXTURES, 'fn');

// The SDK's standard credential and region chain reads these: dummy values, loopback only.
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALTEST';
process.env.AWS_SECRET_ACCESS_KEY = 'local-test-secret';

export function lambdaClient(endpoint: string): LambdaClient {
  return new LambdaClient({ endpoint, maxAttempts: 1 });
}

export async function invoke(client: LambdaClient, name: string, event: unknown, extra: Partial<ConstructorParameters<typeof InvokeCommand>[0]> = {}): Promise<InvokeCommandOutput & { json?: any; log?: string }> {
  const out = await client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)), LogType: 'Tail', ...extra }));
  const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  return { ...out, json: text ? JSON.parse(text) : undefined, log: out.LogResult ? Buffer.from(out.LogResult, 'base64').toString('utf8') : undefined };
}

/** A server whose requests stay open until released: a "hold" invocation is busy until then. */
export async function gate() {
  const waiting: http.ServerResponse[] = [];
  const server = http.createServer((_req, res) => {
    waiting.push(res);
    server.emit('held', waiting.length);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    /** Resolves when `n` invocations are holding. */
    async held(n: number) {
      while (waiting.length < n) await once(server, 'held');
    },
    release() {
      for (const r of waiting.splice(0)) r.end('go');
    },
    close() {
      this.release();
      server.closeAllConnections();
      server.close();
    },
  };
}
