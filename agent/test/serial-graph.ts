/**
 * A small serializability checker for histories over registers (the idea of Jepsen's Elle and of
 * Adya's direct serialization graph): every write stores a unique value and reports the value it
 * overwrote, so each register's version order can be rebuilt from the replies alone. Edges:
 * write→write (one version after the other), write→read (a transaction read a version another
 * wrote) and read→write (a transaction read a version that another then overwrote: the reader
 * must come first). The history is serializable iff the graph has no cycle; lost updates (two
 * transactions overwriting the same version), reads of versions nobody wrote, and a final state
 * that is not the last version are reported as such.
 */
export type Op = ['r', number, number] | ['w', number, number, number];
export interface Txn {
  id: number;
  ops: Op[];
}
export interface Verdict {
  ok: boolean;
  /** Empty when serializable; else what is wrong, with the cycle if there is one. */
  explain: string;
  cycle?: number[];
}

const INITIAL = 0;

export function checkSerializable(txns: Txn[], finalValues: number[], initial = INITIAL): Verdict {
  const problems: string[] = [];
  /** Per register: version value → writing transaction (initial value: transaction 0). */
  const writer = new Map<number, Map<number, number>>();
  /** Per register: version value → the version that overwrote it. */
  const next = new Map<number, Map<number, number>>();
  /** Per register: external reads (value seen from outside the transaction) by transaction. */
  const reads: Array<[number, number, number]> = [];
  const of = <K, V>(m: Map<number, Map<K, V>>, reg: number) => {
    let x = m.get(reg);
    if (!x) m.set(reg, (x = new Map()));
    return x;
  };
  for (const t of txns) {
    const own = new Map<number, number>();
    for (const op of t.ops) {
      const reg = op[1];
      if (op[0] === 'r') {
        const v = op[2];
        if (own.has(reg)) {
          if (own.get(reg) !== v) problems.push(`T${t.id} read ${v} from r${reg} after writing ${own.get(reg)} to it`);
        } else reads.push([t.id, reg, v]);
        continue;
      }
      const [, , value, overwrote] = op;
      if (own.has(reg)) {
        if (own.get(reg) !== overwrote) problems.push(`T${t.id} overwrote ${overwrote} in r${reg} after writing ${own.get(reg)} to it`);
        // Only its last write to the register is a version others can see.
        of(writer, reg).delete(own.get(reg)!);
        of(writer, reg).set(value, t.id);
        const n = of(next, reg);
        for (const [k, v] of n) if (v === own.get(reg)) n.set(k, value);
      } else {
        reads.push([t.id, reg, overwrote]);
        const n = of(next, reg);
        if (n.has(overwrote)) problems.push(`lost update: T${t.id} and T${of(writer, reg).get(n.get(overwrote)!)} both overwrote ${overwrote} in r${reg}`);
        n.set(overwrote, value);
        of(writer, reg).set(value, t.id);
      }
      own.set(reg, value);
    }
  }
  const edges = new Map<number, Set<number>>();
  const edge = (a: number, b: number) => {
    if (a === b) return;
    let s = edges.get(a);
    if (!s) edges.set(a, (s = new Set()));
    s.add(b);
  };
  for (const [reg, n] of next) {
    const w = of(writer, reg);
    w.set(initial, 0);
    for (const [prev, v] of n) {
      if (!w.has(prev)) problems.push(`r${reg}: ${prev} was overwritten but nobody wrote it`);
      else edge(w.get(prev)!, w.get(v)!);
    }
    // The chain from the initial value must reach every version and end at the final value.
    let v = initial;
    let steps = 0;
    while (n.has(v) && steps++ <= n.size) v = n.get(v)!;
    if (steps !== n.size) problems.push(`r${reg}: the versions do not form one chain from ${initial}`);
    if (finalValues[reg] !== undefined && finalValues[reg] !== v) problems.push(`r${reg}: final value ${finalValues[reg]}, but the last version is ${v}`);
  }
  for (const [t, reg, v] of reads) {
    const w = writer.get(reg) ?? new Map([[initial, 0]]);
    if (v !== initial && !w.has(v)) {
      problems.push(`T${t} read ${v} from r${reg}, which nobody wrote`);
      continue;
    }
    edge(w.get(v) ?? 0, t);
    const after = next.get(reg)?.get(v);
    if (after !== undefined) edge(t, w.get(after)!);
  }
  for (const [reg, v] of finalValues.entries()) if (!next.has(reg) && v !== initial) problems.push(`r${reg}: final value ${v} but nobody wrote it`);
  const cycle = findCycle(edges);
  if (cycle) problems.push(`cycle: ${cycle.map((t) => `T${t}`).join(' → ')}`);
  return { ok: problems.length === 0, explain: problems.join('; '), ...(cycle ? { cycle } : {}) };
}

function findCycle(edges: Map<number, Set<number>>): number[] | undefined {
  const state = new Map<number, 1 | 2>();
  const stack: number[] = [];
  const visit = (n: number): number[] | undefined => {
    state.set(n, 1);
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      const s = state.get(m);
      if (s === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (s === undefined) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of edges.keys()) {
    if (state.has(n)) continue;
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}
