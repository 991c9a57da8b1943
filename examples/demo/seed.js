'use strict';
// Deterministic forum content: long-form posts in Markdown (sections, lists, quotes, code), so
// that rendering one is real work, and the same text on every run.

const WORDS = ('latency throughput server worker closure handler request burst ratio cache counter ' +
  'postgres proxy session transaction snapshot object heap lease channel fallback thread event loop ' +
  'queue backlog replica shard index query plan vacuum buffer socket frame payload').split(' ');
const AUTHORS = ['ada', 'grace', 'linus', 'barbara', 'ken', 'margaret', 'edsger', 'radia'];

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function sentence(r, n) {
  const w = Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]);
  if (n > 1 && r() < 0.3) w[1] = `**${w[1]}**`;
  if (n > 3 && r() < 0.3) w[3] = `\`${w[3]}\``;
  if (n > 5 && r() < 0.2) w[5] = `[${w[5]}](https://example.org/${w[5]})`;
  w[0] = w[0][0].toUpperCase() + w[0].slice(1);
  return w.join(' ') + '.';
}

/** One post body: `sections` sections of paragraphs, a list, a quote and a code block each. */
function postBody(id, sections) {
  const r = rng(id * 7919);
  const parts = [];
  for (let s = 0; s < sections; s++) {
    parts.push(`## Part ${s + 1}: ${sentence(r, 4).slice(0, -1)}`, '');
    for (let p = 0; p < 3; p++) parts.push(Array.from({ length: 5 }, () => sentence(r, 10)).join(' '), '');
    for (let i = 0; i < 4; i++) parts.push(`- ${sentence(r, 6)}`);
    parts.push('', `> ${sentence(r, 12)}`, '', '```js');
    for (let i = 0; i < 6; i++) parts.push(`const v${i} = await query(${i}, '${WORDS[Math.floor(r() * WORDS.length)]}'); // ${sentence(r, 3)}`);
    parts.push('```', '');
  }
  return parts.join('\n');
}

function posts(count, sections) {
  return Array.from({ length: count }, (_, i) => {
    const id = i + 1;
    const r = rng(id);
    return {
      id,
      title: Array.from({ length: 5 }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' '),
      author: AUTHORS[id % AUTHORS.length],
      tags: [WORDS[id % WORDS.length], WORDS[(id * 3) % WORDS.length]],
      body: postBody(id, sections),
    };
  });
}

/** A draft an author previews: a long post, different for each author. */
function draft(author, sections) {
  return { author, title: `Notes on ${WORDS[author.length % WORDS.length]} by ${author}`, text: postBody(seedOf(author), sections) };
}

function seedOf(s) {
  let h = 7;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h % 100000;
}

module.exports = { posts, postBody, draft, AUTHORS };
