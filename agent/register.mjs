// `node --import beehive/agent app.mjs`: the same start as the CommonJS entry. Express is CommonJS,
// so its loading goes through the hooked CommonJS loader even when the app imports it.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('./register.js');
