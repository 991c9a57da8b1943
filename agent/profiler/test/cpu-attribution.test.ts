import { describe, expect, it } from 'vitest';
import { attributeProfile, type CpuProfile } from '../index';

const frame = (functionName: string, line: number) => ({ functionName, scriptId: '7', url: 'file:///app.js', lineNumber: line, columnNumber: 4 });

// root ─ handlerA(10) ─ lib(20) ─ handlerA(10)   (recursion through a library)
//      ├ handlerB(30)
//      └ (idle)
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', -1), children: [2, 5, 6] },
    { id: 2, callFrame: frame('handlerA', 10), children: [3] },
    { id: 3, callFrame: frame('lib', 20), children: [4] },
    { id: 4, callFrame: frame('handlerA', 10) },
    { id: 5, callFrame: frame('handlerB', 30) },
    { id: 6, callFrame: { ...frame('(idle)', -1), scriptId: '0' } },
  ],
  startTime: 1_000,
  // Sample i lasts until sample i+1: 2→1000 µs, 3→2000, 4→1000, 5→500, 6→4000, 5→(end-last)=1500
  samples: [2, 3, 4, 5, 6, 5],
  timeDeltas: [0, 1000, 2000, 1000, 500, 4000],
  endTime: 1_000 + 8_500 + 1_500,
};

describe('CPU profile attribution', () => {
  it('sums the samples whose stack holds each handler, counting recursion once', () => {
    const byLoc = new Map([['7:10:4', ['GET /a']], ['7:30:4', ['GET /b', 'GET /b2']]]);
    const a = attributeProfile(profile, byLoc);
    expect(a.byHandler.get('GET /a')).toBe(4); // 1 + 2 + 1 ms
    expect(a.byHandler.get('GET /b')).toBe(2); // 0.5 + 1.5 ms
    expect(a.byHandler.get('GET /b2')).toBe(2); // one function behind two routes
    expect(a.busyMs).toBe(6);
    expect(a.durationMs).toBe(10);
  });

  it('attributes nothing to functions that never ran and copes with an empty profile', () => {
    expect(attributeProfile(profile, new Map([['7:99:4', ['x']]])).byHandler.size).toBe(0);
    const empty = attributeProfile({ nodes: [], startTime: 0, endTime: 0 }, new Map());
    expect(empty).toEqual({ durationMs: 0, busyMs: 0, byHandler: new Map() });
  });
});
