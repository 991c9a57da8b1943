import { debuglog } from 'node:util';

/** Debug logs by namespace: NODE_DEBUG=beehive:agent (or beehive:*) turns them on. */
const logs = new Map<string, ReturnType<typeof debuglog>>();
export function debug(ns: string, msg: string): void {
  let log = logs.get(ns);
  if (!log) {
    log = debuglog(`beehive:${ns}`);
    logs.set(ns, log);
  }
  log(msg);
}
