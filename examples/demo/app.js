'use strict';
// A small forum API, written as any Express app is: module-level state (a post index in a Map, a
// Map of drafts per author, counters), PostgreSQL through `pg`, one CPU-heavy handler (the editor's
// preview: a long Markdown draft rendered to HTML plus a generated cover thumbnail) and cheap ones.
// Nothing in it knows about BeeHive except `beehive.lock`, which keeps the preview counters exact
// when a preview runs on a worker (release consistency, DESIGN.md §4).
//
//   DATABASE_URL=postgres://... node -r beehive/agent examples/demo/app.js
//
// Prints {"port":N,"admin":URL} as its first line once listening (admin: the agent's admin API).
const crypto = require('node:crypto');
const express = require('express');
const { Pool } = require('pg');
const beehive = require('beehive');
const { renderMarkdown } = require('./markdown');
const { coverThumbnail } = require('./cover');

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 4 });

/** Post index, loaded at boot: id -> { title, author, tags }. Bodies stay in PostgreSQL. */
const posts = new Map();
/** Exact counters: what the demo checks at the end. */
const counters = { previews: 0, views: 0, comments: 0 };
/** author -> { previews, lastEtag }: what each author last previewed. */
const drafts = new Map();

const app = express();
app.use(express.json());

app.get('/health', (req, res) => {
  res.json({ ok: true, posts: posts.size });
});

// The hot handler: the editor's live preview of a draft.
app.post('/preview', async (req, res) => {
  const { author, title, text } = req.body ?? {};
  if (typeof author !== 'string' || typeof title !== 'string' || typeof text !== 'string') {
    return res.status(400).json({ error: 'author, title and text are required' });
  }
  const { html, toc, words } = renderMarkdown(text);
  const cover = coverThumbnail(title);
  const etag = crypto.createHash('sha256').update(html).update(cover.data).digest('base64url').slice(0, 27);
  await beehive.lock('drafts', () => {
    counters.previews++;
    const d = drafts.get(author) ?? { previews: 0, lastEtag: '' };
    d.previews++;
    d.lastEtag = etag;
    drafts.set(author, d);
  });
  // The response depends on the draft only: the first offloaded runs are shadows, compared with
  // the local run, and a field that depends on concurrent requests would hold the handler back.
  res.set('etag', `"${etag}"`);
  res.json({ title, words, readingMinutes: Math.ceil(words / 230), toc, html, cover });
});

// A stored post, rendered.
app.get('/posts/:id', async (req, res) => {
  const id = Number(req.params.id);
  const meta = posts.get(id);
  if (!meta) return res.status(404).json({ error: 'no such post' });
  const { rows } = await pool.query('SELECT body, (SELECT count(*)::int FROM comments WHERE post_id = $1) AS comments FROM posts WHERE id = $1', [id]);
  const { html, toc, words } = renderMarkdown(rows[0].body);
  counters.views++;
  res.json({ id, ...meta, words, comments: rows[0].comments, toc, html });
});

app.post('/posts/:id/comments', async (req, res) => {
  const id = Number(req.params.id);
  if (!posts.has(id)) return res.status(404).json({ error: 'no such post' });
  const text = String(req.body?.text ?? '').slice(0, 2000);
  if (!text) return res.status(400).json({ error: 'text is required' });
  const { rows } = await pool.query('INSERT INTO comments (post_id, author, body) VALUES ($1, $2, $3) RETURNING id', [id, String(req.body.author ?? 'anonymous'), text]);
  counters.comments++;
  res.status(201).json({ id: rows[0].id });
});

app.get('/stats', (req, res) => {
  res.json({ counters, drafts: Object.fromEntries(drafts) });
});

app.use((err, req, res, next) => {
  res.status(500).json({ error: err.message });
});

async function main() {
  const { rows } = await pool.query('SELECT id, title, author, tags FROM posts ORDER BY id');
  for (const r of rows) posts.set(r.id, { title: r.title, author: r.author, tags: r.tags });
  // No SIGTERM handler of its own: the agent writes its stats file on SIGTERM, then the process ends.
  const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', async () => {
    // Under the agent, its admin API and dashboard (BEEHIVE_ADMIN=127.0.0.1:0 picks a free port).
    let admin;
    for (let i = 0; i < 100 && beehive.state() && !(admin = beehive.state().adminUrl); i++) await new Promise((r) => setTimeout(r, 20));
    process.stdout.write(JSON.stringify({ port: server.address().port, ...(admin ? { admin } : {}) }) + '\n');
  });
}

main().catch((err) => {
  process.stderr.write(`demo app: ${err.stack}\n`);
  process.exit(1);
});
