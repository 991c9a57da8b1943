/**
 * `beehive`, the package's entry point on the server: the public API (api/), with the server agent
 * loaded on first use (configure, lock, state) rather than when the app requires beehive. A worker
 * hands out api/ itself; both sides give apps the very same functions.
 */
export * from './api';

(globalThis as Record<symbol, unknown>)[Symbol.for('beehive.server.load')] ??= () => require('./agent');

// The package's exports are api/'s own object, not a copy of its bindings: the server's capture
// knows that object as the module `beehive`, whichever path the app reached it by.
module.exports = require('./api');
