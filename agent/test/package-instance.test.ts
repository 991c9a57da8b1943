import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './harness';
import { runCatalog, type Case } from './catalog-runner';

const APP = path.join(__dirname, 'fixtures/package-instance-app.cjs');

/**
 * An instance of a package class the app constructed (`new Marked({...})`, then `md.use(...)`)
 * travels as its construction log and is built on the worker from the worker's own copy of the
 * package; one whose state the log does not explain is refused, naming the package, and one the
 * handler changes runs on the server.
 */
const CASES: Case[] = [
  ['new Marked({ gfm: true }) then md.use({ renderer }) with an app renderer writing app state', [['GET', '/md-use'], ['GET', '/md-use']], true],
  ['new Marked(options), an app object the handler also reaches', [['GET', '/md-options'], ['GET', '/md-options']], true],
  ['an instance constructed before a configuration call changed its package', [['GET', '/md-early']], /an instance of Marked of the package marked was constructed before a configuration call changed its package/],
  ['an instance changed by a direct property write', [['GET', '/md-raw']], /an instance of Marked of the package marked was changed after it was constructed \(its own properties differ\)/],
  ['an instance whose constructor argument the app changed after', [['GET', '/md-args']], /an instance of Marked of the package marked was given arguments that the app changed after the call/],
  ['an instance the handler configures: its state is the server\'s', [['GET', '/md-write'], ['GET', '/md-write']], /changes its instance of Marked of the package marked, whose state is the server's/],
];

runCatalog('package instances: constructed package classes are built on the worker from their construction log, or refused', APP, CASES);

// The worker's side of the record, on the real marked: a fingerprint that does not match, and a
// malformed record, refuse the invocation; a handler's change to a built instance is found.
describe('building a package instance on a worker', () => {
  const { Marked } = require('marked');
  const setup = require(path.join(ROOT, 'dist/offload-worker/package-setup.js'));
  const { packagePrint } = require(path.join(ROOT, 'dist/protocol'));

  it('builds the instance the record describes, and refuses one whose fingerprint differs', () => {
    const print = packagePrint(new Marked({ gfm: true }).use({ breaks: true }));
    const views: unknown[] = [];
    const md = setup.buildPackageInstance({ cls: Marked, name: 'Marked of the package marked', args: [{ gfm: true }], calls: [{ key: 'use', args: [{ breaks: true }] }], print, done: true }, views);
    expect(md.parse('a\nb')).toBe('<p>a<br>b</p>\n');
    expect(setup.packageInstanceWrite(views)).toBeUndefined();
    md.parse('~~x~~');
    expect(setup.packageInstanceWrite(views)).toBeUndefined();
    md.use({ pedantic: true });
    expect(setup.packageInstanceWrite(views)).toBe('Marked of the package marked');
    expect(() => setup.buildPackageInstance({ cls: Marked, name: 'Marked of the package marked', args: [{ gfm: false }], calls: [], print, done: true }, [])).toThrow(
      expect.objectContaining({ code: 'BEEHIVE_ERR_WORKER_UNSUPPORTED', message: expect.stringContaining('the instance of Marked of the package marked built here differs from the server') }),
    );
    expect(() => setup.buildPackageInstance({ cls: Marked, name: 'x', args: [], calls: [{ key: 'nope', args: [] }], print, done: true }, [])).toThrow(expect.objectContaining({ code: 'BEEHIVE_ERR_WORKER_UNSUPPORTED' }));
    expect(() => setup.buildPackageInstance({ cls: 'Marked', args: [] }, [])).toThrow(expect.objectContaining({ code: 'BEEHIVE_ERR_WORKER_BAD_EVENT' }));
  });
});
