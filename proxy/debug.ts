/**
 * Debug logs under the `beehive:proxy` namespace: enabled by NODE_DEBUG=beehive:proxy (util.debuglog)
 * or DEBUG=beehive:proxy / DEBUG=beehive:* as users of the `debug` package expect, without the dependency.
 */
import { debuglog } from 'node:util';

const fromDebugEnv = /(^|,)\s*beehive:(proxy|\*)\s*(,|$)/.test(process.env.DEBUG ?? '');
const viaNode = debuglog('beehive:proxy');

export const debug: (msg: string, ...args: unknown[]) => void = fromDebugEnv
  ? (msg, ...args) => process.stderr.write(`beehive:proxy ${process.pid}: ${format(msg, args)}\n`)
  : viaNode;

export const debugEnabled = fromDebugEnv || viaNode.enabled;

function format(msg: string, args: unknown[]): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:util') as typeof import('node:util')).format(msg, ...args);
}
