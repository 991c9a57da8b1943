'use strict';
// The demo's preview handler as the benchmarks run it (bench/agent, bench/capacity): Markdown, a
// cover thumbnail, per-author counters under beehive.lock; the response carries sizes, not the HTML.
const crypto = require('node:crypto');
const beehive = require('beehive');
const { renderMarkdown } = require('../../examples/demo/markdown');
const { coverThumbnail } = require('../../examples/demo/cover');

/** `POST /preview` over the app's `counters` ({ previews }) and `drafts` (Map author -> draft). */
function previewHandler(counters, drafts) {
  return async (req, res) => {
    const { author, title, text } = req.body;
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
    res.json({ words, toc: toc.length, html: html.length, cover: cover.data.length, etag });
  };
}

module.exports = { previewHandler };
