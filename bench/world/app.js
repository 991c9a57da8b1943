'use strict';
// The bench app for bench/world: a session-using handler, a handler whose write the worker defers to
// the server, and a trivial one. Prints {"port":N} when listening.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const express = require('express');
const session = require('express-session');

const app = express();
app.use(express.json());
app.use(session({ secret: 'bench', resave: false, saveUninitialized: true, name: 'sid' }));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-bench-world-'));
const counts = { writes: 0 };

app.get('/session', (req, res) => {
  req.session.views = (req.session.views || 0) + 1;
  req.session.last = { at: req.path, n: req.session.views };
  res.json({ views: req.session.views });
});
app.post('/write', (req, res) => {
  counts.writes += 1;
  fs.writeFileSync(path.join(dir, 'db.json'), JSON.stringify({ writes: counts.writes, body: req.body }));
  res.json({ writes: counts.writes });
});
app.get('/hello', (req, res) => res.json({ hello: 'world' }));

const server = app.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
