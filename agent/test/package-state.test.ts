import path from 'node:path';
import { runCatalog, type Case } from './catalog-runner';

const APP = path.join(__dirname, 'fixtures/package-state-app.cjs');

/**
 * Packages configured at start-up run configured on the worker: the server logs the app's
 * configuration calls and the package files it loads that configure others, and the worker
 * replays the log on its own copies (checked against the server's fingerprint) before the handler
 * runs. What no log can replay is refused, naming the package.
 */
const CASES: Case[] = [
  ['dayjs.extend(utc)', [['GET', '/utc'], ['GET', '/utc']], true],
  ["require('dayjs/locale/de') and dayjs.locale('de')", [['GET', '/de'], ['GET', '/de']], true],
  ["a second locale loaded, used per instance", [['GET', '/fr']], true],
  ['dayjs.extend(relativeTime) under the global German locale', [['GET', '/ago']], true],
  ['marked.use() with an app renderer that writes app state', [['GET', '/md'], ['GET', '/md'], ['GET', '/md']], true],
  ['Handlebars.registerHelper/registerPartial, compiled and run on the worker', [['GET', '/hbs-inline'], ['GET', '/hbs-inline']], true],
  ["numeral.register('locale') and numeral.locale()", [['GET', '/num/1234.5'], ['GET', '/num/98765.4321']], true],
  ['pluralize.addIrregularRule/addUncountableRule', [['GET', '/plural/cactus'], ['GET', '/plural/bee']], true],
  ['a handler requiring the configured package itself', [['GET', '/require-de']], true],
  // ms is reached as debug's `humanize` (debug re-exports it): the refusal names the file it was found in.
  ['a package changed by a direct property write (no call to replay)', [['GET', '/ms']], /package debug was changed after it loaded \(index\.js: exports\.humanize differs\)/],
  ['a configuration call whose arguments the app changed after it', [['GET', '/mime/a.bee'], ['GET', '/mime/a.hive']], /package mime .*arguments of its configuration call mime\.define\(\) were changed after the call/],
  // A template compiled at start-up is a package closure that compiles itself on its first call
  // (it assigns its captured variable): it runs on the server. Last: that local run changes
  // Handlebars's own state (its parser), after which Handlebars members are refused.
  ['a Handlebars template compiled at start-up', [['GET', '/card/hello']], 'falls back'],
];

runCatalog('package state: configured packages run configured on the worker, or are refused', APP, CASES);
