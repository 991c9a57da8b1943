/**
 * Attributes a V8 CPU profile (`Profiler.stop`) to handlers by function identity: a sample counts
 * for a handler when the handler's function is on its stack, so a handler's CPU time includes the
 * library code it calls. Pure: tests feed it hand-built profiles.
 */
export interface CallFrame { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number }
export interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
export interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples?: number[]; timeDeltas?: number[] }

export interface Attribution {
  /** Length of the profile, ms. */
  durationMs: number;
  /** Time in samples that were not idle, ms. */
  busyMs: number;
  /** CPU ms per handler id. */
  byHandler: Map<string, number>;
}

const kIdle = new Set(['(idle)']);
const frameKey = (f: CallFrame): string => `${f.scriptId}:${f.lineNumber}:${f.columnNumber}`;

/** `handlersByLocation`: location key (`scriptId:line:column`) → handler ids defined there. */
export function attributeProfile(profile: CpuProfile, handlersByLocation: ReadonlyMap<string, readonly string[]>): Attribution {
  const byHandler = new Map<string, number>();
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const isChild = new Set(profile.nodes.flatMap((n) => n.children ?? []));
  // Handlers on the stack of each node, inherited from its ancestors (walked once, iteratively).
  const onStack = new Map<number, readonly string[]>();
  const pending: Array<[number, readonly string[]]> = profile.nodes.filter((n) => !isChild.has(n.id)).map((n) => [n.id, []]);
  while (pending.length) {
    const [id, inherited] = pending.pop()!;
    const node = nodes.get(id);
    if (!node) continue;
    const here = handlersByLocation.get(frameKey(node.callFrame));
    const set = here ? [...new Set([...inherited, ...here])] : inherited;
    onStack.set(id, set);
    for (const c of node.children ?? []) pending.push([c, set]);
  }
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Sample i lasts until sample i+1 (the DevTools convention); the last one until endTime.
  let t = profile.startTime;
  const stamps = deltas.map((d) => (t += d));
  let busyUs = 0;
  for (let i = 0; i < samples.length; i++) {
    const us = Math.max(0, (i + 1 < stamps.length ? stamps[i + 1] : profile.endTime) - stamps[i]);
    const node = nodes.get(samples[i]);
    if (!node || kIdle.has(node.callFrame.functionName)) continue;
    busyUs += us;
    for (const h of onStack.get(samples[i]) ?? []) byHandler.set(h, (byHandler.get(h) ?? 0) + us / 1000);
  }
  return { durationMs: (profile.endTime - profile.startTime) / 1000, busyMs: busyUs / 1000, byHandler };
}
