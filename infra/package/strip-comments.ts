import * as acorn from 'acorn';

/**
 * The worker runtime's compiled JavaScript without its comments, for the artifact: they are a
 * third of its bytes, and nothing on a worker reads them (source maps are not shipped). Each comment
 * is replaced by the line breaks it spanned, so stack traces keep their line numbers. The comments
 * are found by acorn's parse, never by pattern (a `//` inside a string or a regular expression stays);
 * a file acorn cannot parse is kept as it is.
 */
export function stripComments(src: string): string {
  const ranges: Array<[number, number]> = [];
  try {
    acorn.parse(src, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true, allowReturnOutsideFunction: true, onComment: (_block, _text, start, end) => ranges.push([start, end]) });
  } catch {
    return src;
  }
  if (ranges.length === 0) return src;
  let out = '';
  let at = 0;
  for (const [start, end] of ranges) {
    out += src.slice(at, start) + src.slice(start, end).replace(/[^\n]/g, '');
    at = end;
  }
  return out + src.slice(at);
}
