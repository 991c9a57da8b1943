/** The artifact's comment stripping: comments found by parsing, line numbers kept, nothing else touched. */
import { describe, expect, it } from 'vitest';
import { stripComments } from '../strip-comments';

describe('stripComments', () => {
  it('drops line and block comments and keeps their line breaks', () => {
    const src = "'use strict';\n/**\n * doc\n */\nconst a = 1; // tail\nfunction f() { /* inline */ return a; }\n";
    const out = stripComments(src);
    expect(out).toBe("'use strict';\n\n\n\nconst a = 1; \nfunction f() {  return a; }\n");
    expect(out.split('\n').length).toBe(src.split('\n').length);
  });

  it('leaves comment-like text in strings, template literals and regular expressions', () => {
    const src = "const s = '// not a comment /* either */';\nconst t = `http://x/*y*/`;\nconst r = /\\/\\*[^*]*\\*\\//g;\n";
    expect(stripComments(src)).toBe(src);
    // and the code still runs the same
    const run = (code: string) => new Function(`${code}; return [s, t, r.source];`)();
    expect(run(stripComments(src))).toEqual(run(src));
  });

  it('keeps a file it cannot parse as it is', () => {
    const src = 'this is not javascript /* at all */';
    expect(stripComments(src)).toBe(src);
  });
});
