/**
 * `beehive`, the package's entry point on the server: the public API (api/), with the server agent
 * loaded on first use (configure, lock, state) rather than when the app requires beehive. A worker
 * hands out api/ itself; both sides give apps the same functions.
 */
(globalThis as Record<symbol, unknown>)[Symbol.for('beehive.server.load')] ??= () => require('./agent');

export = require('./api') as typeof import('./api');
