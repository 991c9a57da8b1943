'use strict';
// Loaded by the warm-up route through each worker's module fallback (see app.js).
module.exports = { ok: true };
