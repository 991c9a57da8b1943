import { debuglog } from 'node:util';

/** Debug logs by namespace: NODE_DEBUG=beehive:agent (or beehive:*) turns them on. */
const logs = new Map<string, ReturnType<typeof debuglog>>();

function log(ns: string): ReturnType<typeof debuglog> {
  let l = logs.get(ns);
  if (!l) {
    l = debuglog(`beehive:${ns}`);
    logs.set(ns, l);
  }
  return l;
}

export function debug(ns: string, msg: string): void {
  log(ns)(msg);
}

/** For messages that cost something to build: check first. */
export function debugEnabled(ns: string): boolean {
  return log(ns).enabled;
}
