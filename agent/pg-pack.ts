import { createControlClient, isPgClient, isPgPool, packPg, type PackContext, type PgRecord } from '../proxy';
import type { AgentOptions } from './config';
import type { Packer } from './capture/closure';
import { CaptureErrors } from './capture/errors';
import { debug } from './debug';

/** The packer of one invocation, and what its hand-offs need at the end. */
export interface InvocationPacker {
  pack: Packer;
  /**
   * The invocation's commit point: its hand-offs commit what the worker committed ('commit'), or
   * undo the worker's part so that a local re-run starts from the same database state ('rollback').
   */
  finish(outcome: 'commit' | 'rollback'): Promise<void>;
}

const NONE: InvocationPacker = { pack: () => undefined, finish: async () => {} };

/**
 * pg clients and pools in a closure become proxy hand-offs (DESIGN.md §4 "Packageable"): through
 * the in-process proxy handle, or the proxy's control endpoint. Client hand-offs are deferred: the
 * worker's COMMIT becomes real only when the agent has committed the invocation, so a request that
 * fails on the worker and runs again locally does not write twice. Without a proxy, a handler that
 * reaches a pg object stays local, with that reason.
 */
export function makePacker(o: AgentOptions): (capability: string, shadow: boolean) => InvocationPacker {
  const target = o.proxyUrl ? new URL(o.proxyUrl) : o.proxy ? new URL(o.proxy.url) : undefined;
  const control = o.proxy ?? (o.proxyControl && o.proxyControlToken ? createControlClient({ url: o.proxyControl, token: o.proxyControlToken }) : undefined);
  if (!target || !control) {
    const refuse: Packer = (v) => {
      if (isPgClient(v) || isPgPool(v)) {
        throw CaptureErrors.UNSUPPORTED('uses a pg client or pool: start the BeeHive proxy and set BEEHIVE_PROXY_URL and BEEHIVE_PROXY_CONTROL to offload it');
      }
      return undefined;
    };
    return () => ({ ...NONE, pack: refuse });
  }
  const proxy = { host: target.hostname, port: Number(target.port || 5432), database: target.pathname.slice(1) || undefined };
  const aliases = o.proxy ? [o.proxy.address] : [];
  return (capability, shadow) => {
    const handoffs: Array<Promise<string | undefined>> = [];
    const ctx: PackContext = {
      proxy,
      proxyAliases: aliases,
      prepareHandoff: (r) => control.prepareHandoff(r),
      preparePoolGrant: (r) => control.preparePoolGrant(r),
      capability,
      shadow,
      // A shadow's work is rolled back by its shadow session anyway.
      deferCommit: !shadow,
      ttlMs: o.timeoutMs + 5000,
    };
    return {
      pack: (v) => {
        const r = packPg(v, ctx) as PgRecord | Promise<PgRecord> | undefined;
        if (r && !shadow) handoffs.push(Promise.resolve(r).then((rec) => ('handoffId' in rec ? rec.handoffId : undefined), () => undefined));
        return r as ReturnType<Packer>;
      },
      async finish(outcome) {
        const ids = (await Promise.all(handoffs)).filter((id): id is string => !!id);
        await Promise.all(
          ids.map((id) =>
            control.finishHandoff({ id, outcome }).then(
              (res) => debug('agent', `hand-off ${id.slice(0, 8)}… finished: ${res.result}`),
              (err: Error) => debug('agent', `hand-off ${id.slice(0, 8)}… finish(${outcome}) failed: ${err.message}`),
            ),
          ),
        );
      },
    };
  };
}
