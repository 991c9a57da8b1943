import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayResponse } from '../offload/5-replay';

/**
 * A worker says where a callback sits in the server's code; it never sends code. Forged or
 * malformed descriptions are refused with a coded error before anything of the response replays.
 * Real Express responses on a real server.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler, sent, CB } = require('./fixtures/callback-handler.cjs') as { handler: Function; sent: string[]; CB: string };

let server: http.Server;
let url = '';
let forged: unknown[][] = [];
let outcome: { code?: string; message?: string; headersSent?: boolean } = {};
beforeAll(async () => {
  const app = express();
  app.get('/replay', (req, res) => {
    try {
      replayResponse(res, forged, { req, res });
      outcome = { headersSent: res.headersSent };
    } catch (err) {
      outcome = { code: (err as { code?: string }).code, message: (err as Error).message, headersSent: res.headersSent };
      res.status(599).end();
    }
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/replay`;
});
afterAll(() => new Promise((r) => server.close(r)));

async function replay(calls: unknown[][]): Promise<typeof outcome> {
  forged = calls;
  await (await fetch(url)).arrayBuffer();
  return outcome;
}

describe('callback descriptions from a worker', () => {
  const text = Function.prototype.toString.call(handler);
  const at = text.indexOf(CB);
  const made = (over: Record<string, unknown> = {}) => ({ kind: 'made', fn: handler, at, text: CB, group: 0, vars: [['res', 2, null]], ...over });

  it('the description of the source it names is not code: a text other than the server\'s is refused', async () => {
    const r = await replay([['status', 201], ['withCallbacks', 'sendFile', [1], '/nonexistent', made({ text: '() => process.exit(3)' })]]);
    expect(r).toEqual({ code: 'BEEHIVE_ERR_CHANNEL_MALFORMED', message: expect.stringMatching(/not in its function's code/), headersSent: false });
  });

  it('refuses a callback for a method that takes none, a listener of another event, bad positions, unknown kinds', async () => {
    for (const [calls, words] of [
      [[['withCallbacks', 'json', [0], made()]], /takes no callback/],
      [[['withCallbacks', 'on', [1], 'pipe', made()]], /cannot be listened to/],
      [[['withCallbacks', 'sendFile', [5], '/x', made()]], /positions/],
      [[['withCallbacks', 'sendFile', [1], '/x', { kind: 'eval', src: '1' }]], /unknown callback kind/],
      [[['withCallbacks', 'sendFile', [1], '/x', made({ at: -1 })]], /malformed/],
      [[['withCallbacks', 'sendFile', [1], '/x', made({ fn: 'handler' })]], /one function/],
      [[['send', 'x', () => 0]], /got a function/],
    ] as Array<[unknown[][], RegExp]>) {
      const r = await replay(calls);
      expect(r.code, String(words)).toBe('BEEHIVE_ERR_CHANNEL_MALFORMED');
      expect(r.message).toMatch(words);
      expect(r.headersSent).toBe(false);
    }
  });

  it('a callback variable of the handler that was not sent is refused', async () => {
    const r = await replay([['withCallbacks', 'sendFile', [1], '/nonexistent', made({ vars: [] })]]);
    expect(r).toEqual({ code: 'BEEHIVE_ERR_CHANNEL_MALFORMED', message: expect.stringMatching(/variable 'res' was not sent/), headersSent: false });
  });

  it('a true description is made from the server\'s code and called as Express calls it', async () => {
    // Its `res` is the handler's parameter: the server's response stands for it; `sent` is the module's.
    forged = [['withCallbacks', 'sendFile', [1], '/nonexistent', made()]];
    const reply = await fetch(url);
    expect({ status: reply.status, body: await reply.text() }).toEqual({ status: 404, body: 'cb ENOENT 1' });
    expect(outcome).toEqual({ headersSent: false });
    expect(sent).toEqual(['ENOENT']);
  });
});
