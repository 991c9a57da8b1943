/**
 * The instrumentation's discipline: it patches only the Express versions it declares, its unpatch
 * restores what it changed (and the handlers it wrapped call their original from then on), the
 * loader hooks take several subscribers and come off Module once none is left, and a fault in the
 * agent's own decision runs the app's handler as without the agent. Real Express 4 and 5, real
 * HTTP on port 0, real module loads.
 */
import fs from 'node:fs';
import http from 'node:http';
import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, resolveOptions } from '../../index';
import { HandlerEntry, Registry } from '../../registry';
import { patchExpress, supportedExpressMajor } from '../express';
import { onAnyModuleLoad, onModuleLoad } from '../loader';

type ExpressModule = typeof import('express');
const express5 = require('express') as ExpressModule;
const express4 = require('express4') as ExpressModule;

async function get(app: http.RequestListener, url: string): Promise<{ status: number; body: string }> {
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as { port: number };
    const r = await fetch(`http://127.0.0.1:${port}${url}`);
    return { status: r.status, body: await r.text() };
  } finally {
    await new Promise((r) => server.close(r));
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-instrument-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('Express versions', () => {
  it('declares the majors it patches: 4 and 5, nothing else, nothing unreadable', () => {
    expect(supportedExpressMajor(require('express/package.json').version)).toBe(5);
    expect(supportedExpressMajor(require('express4/package.json').version)).toBe(4);
    expect(supportedExpressMajor('5.0.0-beta.3')).toBe(5);
    for (const v of ['3.21.2', '6.0.0', '0.0.0', '', 'latest', '4']) expect(supportedExpressMajor(v), v).toBeUndefined();
  });

  it('leaves an Express of another version unpatched', () => {
    const fake = { Route: class {} as unknown as { prototype: Record<string, unknown> } };
    const get = function get() {};
    fake.Route.prototype.get = get;
    const hooks = { registry: new Registry(), register: (e: HandlerEntry) => e, handle: () => undefined };
    expect(patchExpress(fake, '6.0.0', hooks)).toBeUndefined();
    expect(fake.Route.prototype.get).toBe(get);
  });
});

describe.each([
  ['4', express4],
  ['5', express5],
])('patch and unpatch of Express %s', (_major, express) => {
  it('routes go through the hook while patched, and straight to the original after the unpatch', async () => {
    const before = express.Route.prototype.get;
    const seen: string[] = [];
    const hooks = {
      registry: new Registry(),
      register: (e: HandlerEntry) => e,
      handle: (e: HandlerEntry, self: unknown, req: never, res: never, next: never) => (seen.push(e.id), e.fn.call(self, req, res, next)),
    };
    const version = (express === express4 ? require('express4/package.json') : require('express/package.json')).version as string;
    const unpatch = patchExpress(express as never, version, hooks);
    expect(unpatch).toBeTypeOf('function');
    expect(patchExpress(express as never, version, hooks)).toBeUndefined(); // once only
    const app = express();
    app.get('/x', (_req, res) => void res.send('original'));
    expect(await get(app, '/x')).toEqual({ status: 200, body: 'original' });
    expect(seen).toEqual(['GET /x']);
    unpatch!();
    expect(express.Route.prototype.get).toBe(before);
    // The route registered while patched now skips the hook.
    expect(await get(app, '/x')).toEqual({ status: 200, body: 'original' });
    expect(seen).toEqual(['GET /x']);
    expect(Object.getOwnPropertySymbols(express.response).map(String)).not.toContain('Symbol(beehive.pack)');
  });
});

describe('loader hooks', () => {
  const M = Module as unknown as { _load: unknown; prototype: { load: unknown } };

  it('serve several subscribers and come off Module once none is left', () => {
    const loadBefore = M._load;
    const protoBefore = M.prototype.load;
    const a: string[] = [];
    const b: string[] = [];
    const offA = onAnyModuleLoad((m) => a.push(path.basename(m.filename)));
    const offB = onAnyModuleLoad((m) => b.push(path.basename(m.filename)));
    const probed: unknown[] = [];
    const offP = onModuleLoad('probe', (exports) => (probed.push(exports), false));
    expect(M._load).not.toBe(loadBefore);
    const file = path.join(tmp, 'one.js');
    fs.writeFileSync(file, 'module.exports = { one: 1 };');
    const one = require(file);
    expect(a).toContain('one.js');
    expect(b).toContain('one.js');
    expect(probed).toContain(one);
    offA();
    const two = path.join(tmp, 'two.js');
    fs.writeFileSync(two, 'module.exports = { two: 2 };');
    require(two);
    expect(a).not.toContain('two.js');
    expect(b).toContain('two.js');
    offB();
    expect(M._load).not.toBe(loadBefore); // the probe still subscribes
    offP();
    expect(M._load).toBe(loadBefore);
    expect(M.prototype.load).toBe(protoBefore);
    const three = path.join(tmp, 'three.js');
    fs.writeFileSync(three, 'module.exports = {};');
    require(three);
    expect(b).not.toContain('three.js');
  });
});

describe('a fault in the agent', () => {
  it('runs the app handler as without the agent when the decision itself fails', async () => {
    const agent = new Agent(resolveOptions({ mode: 'manual', ratio: 1, admin: 'off', quiet: true }));
    try {
      // Injected: the dispatcher's decision throws before anything ran.
      (agent.dispatcher as unknown as { shouldOffload: () => boolean }).shouldOffload = () => {
        throw new Error('injected decision fault');
      };
      let runs = 0;
      const handler = (_req: unknown, res: { send(s: string): void }) => {
        runs++;
        res.send('as without the agent');
      };
      const entry = agent.registry.add(new HandlerEntry(handler, 'GET', '/guarded', 'express', 5));
      const app = express5();
      app.get('/guarded', (req, res, next) => agent.handle(entry, undefined, req, res, next));
      expect(await get(app, '/guarded')).toEqual({ status: 200, body: 'as without the agent' });
      expect(runs).toBe(1);
      expect(agent.getState().totals.offloaded).toBe(0);
    } finally {
      await agent.close();
    }
  });
});
