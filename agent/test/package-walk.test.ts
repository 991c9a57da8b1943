import { describe, expect, it } from 'vitest';
import { walk } from '../capture/package-state';

describe('package state walk', () => {
  it('goes on past an accessor: what later keys hold is visited, and the accessor functions too', () => {
    const nested = { x: 1 };
    const get = () => 1;
    const set = (_v: unknown) => {};
    const root = { a: 1, get b() { return 2; }, c: nested };
    Object.defineProperty(root, 'd', { get, set, enumerable: true, configurable: true });
    const late = { y: 2 };
    (root as Record<string, unknown>).e = late;
    const seen: Array<[string, unknown]> = [];
    walk(root, (o, label) => void seen.push([label, o]), 'root');
    expect(seen).toContainEqual(['root.c', nested]);
    expect(seen).toContainEqual(['root.e', late]);
    expect(seen).toContainEqual(['root.d', get]);
    expect(seen).toContainEqual(['root.d', set]);
  });
});
