import { describe, expect, it } from 'vitest';
import { checkSerializable, type Txn } from './serial-graph';

// The checker itself must fail on the anomalies it exists for: fixed histories, built by hand.
describe('serialization-graph checker', () => {
  it('accepts a serial history', () => {
    const h: Txn[] = [
      { id: 1, ops: [['r', 0, 0], ['w', 0, 1, 0]] },
      { id: 2, ops: [['r', 0, 1], ['w', 1, 2, 0]] },
      { id: 3, ops: [['r', 1, 2], ['r', 0, 1]] },
    ];
    expect(checkSerializable(h, [1, 2])).toEqual({ ok: true, explain: '' });
  });

  it('finds a lost update (two increments from the same version)', () => {
    const h: Txn[] = [
      { id: 1, ops: [['w', 0, 1, 0]] },
      { id: 2, ops: [['w', 0, 2, 0]] },
    ];
    const v = checkSerializable(h, [2]);
    expect(v.ok).toBe(false);
    expect(v.explain).toMatch(/lost update/);
  });

  it('finds write skew (each read what the other then overwrote)', () => {
    const h: Txn[] = [
      { id: 1, ops: [['r', 0, 0], ['r', 1, 0], ['w', 0, 1, 0]] },
      { id: 2, ops: [['r', 0, 0], ['r', 1, 0], ['w', 1, 2, 0]] },
    ];
    const v = checkSerializable(h, [1, 2]);
    expect(v.ok).toBe(false);
    expect(v.cycle).toBeDefined();
  });

  it('finds a read of a version nobody wrote, and a final state that is not the last version', () => {
    expect(checkSerializable([{ id: 1, ops: [['r', 0, 7]] }], [0]).explain).toMatch(/nobody wrote/);
    expect(checkSerializable([{ id: 1, ops: [['w', 0, 1, 0]] }], [0]).explain).toMatch(/final value 0/);
  });

  it('finds a read skew: a reader sees one write of a transaction but not its other', () => {
    const h: Txn[] = [
      { id: 1, ops: [['w', 0, 1, 0], ['w', 1, 1, 0]] },
      { id: 2, ops: [['r', 0, 1], ['r', 1, 0]] },
    ];
    const v = checkSerializable(h, [1, 1]);
    expect(v.ok).toBe(false);
    expect(v.cycle).toEqual([1, 2, 1]);
  });
});
