'use strict';
// A small Markdown renderer (headings, paragraphs, lists, quotes, fenced code with keyword
// highlighting, emphasis, inline code, links) plus a table of contents. Pure JavaScript on
// purpose: it is the CPU-heavy part of the demo's hot handler, and it runs the same on the server
// and on a worker.

const KEYWORDS = new Set(['const', 'let', 'var', 'function', 'return', 'if', 'else', 'for', 'while', 'await', 'async', 'new', 'class', 'import', 'from', 'export', 'select', 'insert', 'update', 'where']);

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function slugify(s) {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9\s-]/g, '')
    .trim()
    .replace(/\s+/g, '-');
}

function inline(text) {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\*([^*]+)\*/g, '<em>$1</em>')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, label, href) => `<a href="${/^(https?:|\/)/.test(href) ? href : '#'}" rel="nofollow">${label}</a>`);
}

function highlight(line) {
  return line
    .split(/(\s+|[(){}[\];,.=+*/<>-])/)
    .map((tok) => {
      if (KEYWORDS.has(tok.toLowerCase())) return `<span class="kw">${escapeHtml(tok)}</span>`;
      if (/^\d+$/.test(tok)) return `<span class="num">${tok}</span>`;
      return escapeHtml(tok);
    })
    .join('');
}

/** Renders Markdown source to `{ html, toc, words }`. */
function renderMarkdown(src) {
  const out = [];
  const toc = [];
  let words = 0;
  let para = [];
  let list = null;
  let code = null;
  const flushPara = () => {
    if (para.length) out.push(`<p>${inline(para.join(' '))}</p>`);
    para = [];
  };
  const flushList = () => {
    if (list) out.push(`<${list.tag}>${list.items.map((i) => `<li>${inline(i)}</li>`).join('')}</${list.tag}>`);
    list = null;
  };
  for (const line of src.split('\n')) {
    if (code) {
      if (line.startsWith('```')) {
        out.push(`<pre><code class="lang-${escapeHtml(code.lang)}">${code.lines.map(highlight).join('\n')}</code></pre>`);
        code = null;
      } else code.lines.push(line);
      continue;
    }
    if (line.startsWith('```')) {
      flushPara();
      flushList();
      code = { lang: line.slice(3).trim() || 'text', lines: [] };
      continue;
    }
    words += line.split(/\s+/).filter(Boolean).length;
    const h = /^(#{1,4})\s+(.*)$/.exec(line);
    const li = /^(\s*[-*]|\s*\d+\.)\s+(.*)$/.exec(line);
    if (h) {
      flushPara();
      flushList();
      const level = h[1].length;
      const id = slugify(h[2]);
      toc.push({ level, id, title: h[2] });
      out.push(`<h${level} id="${id}">${inline(h[2])}</h${level}>`);
    } else if (li) {
      flushPara();
      const tag = /\d/.test(li[1]) ? 'ol' : 'ul';
      if (list && list.tag !== tag) flushList();
      list ??= { tag, items: [] };
      list.items.push(li[2]);
    } else if (line.startsWith('> ')) {
      flushPara();
      flushList();
      out.push(`<blockquote>${inline(line.slice(2))}</blockquote>`);
    } else if (line.trim() === '') {
      flushPara();
      flushList();
    } else {
      flushList();
      para.push(line.trim());
    }
  }
  flushPara();
  flushList();
  return { html: out.join('\n'), toc, words };
}

module.exports = { renderMarkdown, escapeHtml, slugify };
