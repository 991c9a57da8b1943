import { describe, expect, it } from 'vitest';
import { diffPaths, judgeShadow } from '../offload/6-shadow';

describe('shadow comparison', () => {
  it('finds the paths that differ', () => {
    expect(diffPaths({ a: 1, b: [1, { c: 2 }] }, { a: 1, b: [1, { c: 3 }] })).toEqual(['b[1].c']);
    expect(diffPaths([['json', { x: 1 }]], [['send', 'x']])).toEqual(['[0][0]', '[0][1]']);
  });

  it('treats paths where the two shadows disagree as noise', () => {
    const local = [[200, 'json', { id: 'r-1', v: 1 }]];
    const a = [[200, 'json', { id: 'r-2', v: 1 }]];
    const b = [[200, 'json', { id: 'r-3', v: 1 }]];
    expect(judgeShadow(local, a, b)).toMatchObject({ clean: true, noise: ['[0][2].id'] });
  });

  it('treats clock readings as noise even when both shadows read the same millisecond', () => {
    const t = Date.now();
    const v = judgeShadow([[200, { at: t, iso: new Date(t).toISOString() }]], [[200, { at: t + 3, iso: new Date(t + 3).toISOString() }]], [[200, { at: t + 3, iso: new Date(t + 3).toISOString() }]]);
    expect(v.clean).toBe(true);
  });

  it('reports a difference outside the noise', () => {
    const v = judgeShadow([[200, { script: 'app.js', r: 0.1 }]], [[200, { script: 'worker.js', r: 0.2 }]], [[200, { script: 'worker.js', r: 0.3 }]]);
    expect(v).toMatchObject({ clean: false, paths: ['[0][1].script'] });
  });
});
