import path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from './harness';
import { runCatalog } from './catalog-runner';

const APP = path.join(__dirname, 'fixtures/package-mismatch-app.cjs');

// The fault this injects needs two versions of Handlebars in the tree (hbs pins its own).
it('the tree holds two versions of handlebars (the precondition of the mismatch case)', () => {
  const nested = require(path.join(ROOT, 'node_modules/hbs/node_modules/handlebars/package.json')).version;
  const top = require(path.join(ROOT, 'node_modules/handlebars/package.json')).version;
  expect(nested).not.toBe(top);
});

runCatalog('package state: a worker whose copy of a configured package differs refuses, and the request runs on the server', APP, [
  ['configured Handlebars of another version on the worker', [['GET', '/version'], ['GET', '/version']], 'falls back'],
]);
