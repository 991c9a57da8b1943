import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApp, type RunningApp } from './harness';
import { expectSameReplies } from './catalog-runner';

const APP = path.join(__dirname, 'fixtures/request-app.cjs');
const SESSION_APP = path.join(__dirname, 'fixtures/session-app.cjs');

type Req = [method: string, path: string, body?: unknown, headers?: Record<string, string>];
/** name → requests; each runs against a local app and an offloading one, in the same order. */
const CASES: Array<[string, Req[]]> = [
  // The request.
  ['req.url rewritten, next() continues on the new URL', [['GET', '/posts/1/comments']]],
  ['a POST rewritten to another resource, its body amended', [['POST', '/legacy-items', { name: 'n1' }], ['POST', '/items', { name: 'n2' }]]],
  ['req.user set by a route-level middleware', [['GET', '/users/1'], ['GET', '/users/9']]],
  ['props, params, res.locals set for the next route; a helper deleted', [['GET', '/acct/2']]],
  ['req.query assigned as Express allows it', [['GET', '/query-write?a=1']]],
  ['req.fresh and req.stale', [['GET', '/fresh', undefined, { 'if-none-match': '"v1"' }], ['GET', '/fresh']]],
  [
    'acceptsLanguages, acceptsEncodings, accepts, range, is, xhr',
    [['GET', '/negotiate', undefined, { 'accept-language': 'fr;q=0.8, en', 'accept-encoding': 'gzip', accept: 'application/json', range: 'bytes=0-99', 'x-requested-with': 'XMLHttpRequest' }]],
  ],
  ['socket.remoteAddress, ip, hostname, protocol, subdomains, path, query', [['GET', '/whoami?x=1&y=2']]],
  // The response.
  ['res.format handlers get (req, res, next)', [['GET', '/format', undefined, { accept: 'application/json' }], ['GET', '/format', undefined, { accept: 'text/plain' }]]],
  ["res.format's 406", [['GET', '/format-406', undefined, { accept: 'image/png' }]]],
  ['read-back after set: type, numeric header, cookies, vary, append', [['GET', '/readback']]],
  ['helpers middleware put on req and res (closures over them)', [['GET', '/helper']]],
  ['flushHeaders, write and end', [['GET', '/flush']]],
  ['a header set after the response was sent throws as it does locally', [['GET', '/after-send']]],
  ['res.sendFile with a callback (run on the server after the replay)', [['GET', '/sendfile-cb'], ['GET', '/sendfile-cb']]],
  ['res.render with a callback', [['GET', '/render-cb']]],
  ["res.on('finish') listener", [['GET', '/on-finish'], ['GET', '/on-finish']]],
  // Lifetime.
  ['work scheduled after the response (timer, immediate, microtask) is committed with it', [['GET', '/later'], ['GET', '/later']]],
  ['chained timers after the response', [['GET', '/later-chain']]],
  ['an interval', [['GET', '/interval']]],
  ['a long timer', [['GET', '/long-timer']]],
  // The world.
  ['fs.writeFileSync and appendFileSync, deferred to the server', [['POST', '/note', { text: 'first' }], ['POST', '/note', { text: 'second' }]]],
  ["lowdb's FileSync adapter writing db.json, deferred", [['POST', '/lowdb', { title: 'a' }], ['POST', '/lowdb', { title: 'b' }]]],
  ['fs.writeFile with a callback, deferred', [['POST', '/note-cb', { text: 'cb' }]]],
  ['fs.promises.writeFile, deferred', [['POST', '/note-promise', { text: 'promised' }]]],
  ['reading an app file', [['GET', '/read-file']]],
  ['reading back a file it wrote', [['POST', '/note-readback', { text: 'rb' }]]],
  ['fs.mkdirSync', [['POST', '/mkdir']]],
  ['a child process', [['POST', '/spawn']]],
  ['an outbound HTTP request', [['GET', '/outbound']]],
  ['a fetch()', [['GET', '/fetch']]],
  ['a UDP datagram (dgram)', [['POST', '/udp'], ['POST', '/udp']]],
  ['console and stderr output', [['GET', '/log']]],
  ['a write to process.env', [['POST', '/env']]],
  ['process.chdir', [['POST', '/chdir']]],
  // Errors are verified, never trusted.
  ['a handler that always throws', [['GET', '/boom'], ['GET', '/boom']]],
  ['a handler that answers 503', [['GET', '/unavailable'], ['GET', '/unavailable']]],
  ['a handler that fails only on a worker', [['GET', '/worker-boom'], ['GET', '/worker-boom']]],
];

/**
 * Handlers whose offloaded runs end in an error: never committed, run again here. `diverged`: the
 * local run ended otherwise, so the handler is held local.
 */
const VERIFIED: Record<string, { diverged: boolean }> = {
  'GET /boom': { diverged: false },
  'GET /unavailable': { diverged: false },
  'GET /worker-boom': { diverged: true },
};

/** Handlers that must run on the server, and the words their reason must contain. */
const REFUSED: Record<string, RegExp> = {
  'GET /interval': /interval/,
  'GET /long-timer': /60000 ms timer/,
  'POST /note-readback': /readFileSync.*after writing it/,
  'POST /mkdir': /fs\.mkdirSync/,
  'POST /spawn': /child_process\.execFileSync/,
  'GET /outbound': /outbound connection/,
  'GET /fetch': /outbound connection/,
  'POST /udp': /dgram\.createSocket\(\): outbound network/,
  'POST /env': /process\.env\.REQUEST_APP_FLAG/,
  'POST /chdir': /process\.chdir/,
};

for (const expressPkg of ['express', 'express4']) {
  describe(`the request, the response and the world on ${expressPkg}: local and offloaded give the same responses and state`, () => {
    let local: RunningApp;
    let remote: RunningApp;
    const dirs: string[] = [];
    beforeAll(async () => {
      const dir = () => {
        const d = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-req-'));
        dirs.push(d);
        return d;
      };
      [local, remote] = await Promise.all([
        startApp(APP, { EXPRESS_PKG: expressPkg, DATA_DIR: dir(), BEEHIVE_MODE: 'off' }),
        startApp(APP, { EXPRESS_PKG: expressPkg, DATA_DIR: dir(), BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '2' }),
      ]);
    });
    let remoteStats: Record<string, any>;
    afterAll(async () => {
      await local?.stop();
      remoteStats ??= await remote?.stop();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });

    for (const [name, reqs] of CASES) {
      it(name, async () => {
        await expectSameReplies(local, remote, reqs);
        const sa = await call(local.url, 'GET', '/__state');
        const sb = await call(remote.url, 'GET', '/__state');
        expect(JSON.parse(sb.body)).toEqual(JSON.parse(sa.body));
      });
    }

    it('offloaded every handler it could, and said why for the others', async () => {
      remoteStats = await remote.stop();
      for (const h of remoteStats.handlers) {
        if (h.local + h.offloaded === 0) continue;
        if (REFUSED[h.id]) {
          expect(h.reason, h.id).toMatch(REFUSED[h.id]);
          expect(h.offloaded, h.id).toBe(0);
          expect(h.refused, h.id).toBe(1);
        } else if (VERIFIED[h.id]) {
          const runs = h.local + h.offloaded;
          if (VERIFIED[h.id].diverged) {
            // The first run diverged; from then on the handler runs here.
            expect({ id: h.id, offloaded: h.offloaded, reexecuted: h.reexecuted, diverged: h.diverged, phase: h.phase }).toEqual({ id: h.id, offloaded: 0, reexecuted: 1, diverged: 1, phase: 'held' });
            expect(h.shadowDiff.paths, h.id).toEqual(['outcome']);
          } else {
            // Every run was verified and re-run here, none counted as offloaded.
            expect({ id: h.id, offloaded: h.offloaded, reexecuted: h.reexecuted, diverged: h.diverged, local: h.local }).toEqual({ id: h.id, offloaded: 0, reexecuted: runs, diverged: 0, local: runs });
          }
        } else {
          expect({ id: h.id, reason: h.reason, local: h.local, failures: h.failures }).toEqual({ id: h.id, reason: undefined, local: 0, failures: 0 });
        }
      }
      for (const id of Object.keys(REFUSED)) expect(remoteStats.handlers.some((h: any) => h.id === id && h.reason), id).toBe(true);
    });
  });
}

/** A client that keeps its cookies, as a browser would. */
class Browser {
  private jar = new Map<string, string>();
  constructor(private readonly base: string) {}
  async call(method: string, p: string, body?: unknown): Promise<{ status: number; body: unknown; cookies: string[] }> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const r = await call(this.base, method, p, body, cookie ? { cookie } : {});
    const set = r.headers['set-cookie'] ? r.headers['set-cookie'].split(' | ') : [];
    for (const c of set) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const k = pair.slice(0, i);
      const v = pair.slice(i + 1);
      if (v === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.jar.delete(k);
      else this.jar.set(k, v);
    }
    // express-session's ids are random: compare the cookies' names and attributes, not the ids.
    return { status: r.status, body: JSON.parse(r.body), cookies: set.map((c) => c.replace(/^sid=[^;]+/, 'sid=ID').replace(/expires=[^;]+/i, 'expires=T')) };
  }
}

const SESSION_STEPS: Array<[string, string, unknown?]> = [
  ['GET', '/me'],
  ['GET', '/count'],
  ['GET', '/count'],
  ['POST', '/login', { name: 'nobody' }],
  ['GET', '/me'],
  ['POST', '/login', { name: 'ada' }],
  ['GET', '/me'],
  ['GET', '/count'],
  ['POST', '/remember'],
  ['POST', '/touch'],
  ['GET', '/me'],
  ['POST', '/logout'],
  ['GET', '/me'],
];

describe('sessions in offloaded handlers: the same answers, cookies and state as local, store operations on the server', () => {
  let local: RunningApp;
  let remote: RunningApp;
  beforeAll(async () => {
    [local, remote] = await Promise.all([startApp(SESSION_APP, { BEEHIVE_MODE: 'off' }), startApp(SESSION_APP, { BEEHIVE_MODE: 'always', BEEHIVE_WORKERS: '2' })]);
  });
  afterAll(async () => {
    await local?.stop();
    await remote?.stop();
  });

  for (const [prefix, store] of [['/ms', "express-session's MemoryStore"], ['/mem', 'express-session with memorystore'], ['/cs', 'cookie-session']]) {
    it(store, async () => {
      const a = new Browser(local.url);
      const b = new Browser(remote.url);
      for (const [method, p, body] of SESSION_STEPS) {
        if (prefix === '/cs' && (p === '/remember' || p === '/touch')) continue;
        const ra = await a.call(method, prefix + p, body);
        const rb = await b.call(method, prefix + p, body);
        expect(rb, `${method} ${prefix}${p}`).toEqual(ra);
      }
      expect((await call(remote.url, 'GET', '/__state')).body).toEqual((await call(local.url, 'GET', '/__state')).body);
    });
  }

  it('every session handler was offloaded except the one that reads the store', async () => {
    await call(remote.url, 'GET', '/ms/store');
    const stats = await remote.stop();
    for (const h of stats.handlers) {
      if (h.local + h.offloaded === 0) continue;
      if (/\/store$/.test(h.id)) expect(h.reason, h.id).toMatch(/sessionStore/);
      else expect({ id: h.id, reason: h.reason, local: h.local, failures: h.failures }).toEqual({ id: h.id, reason: undefined, local: 0, failures: 0 });
    }
  });
});
