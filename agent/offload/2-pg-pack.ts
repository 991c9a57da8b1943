import { createControlClient, isPgObject, packPg, type PackContext, type PgRecord } from '../../proxy';
import { BeehiveError } from '../../protocol';
import type { AgentOptions } from '../config';
import type { Packer } from '../capture/closure';
import { CaptureErrors } from '../capture/errors';
import { debug } from '../debug';

/** A control failure as a coded error (the dispatcher then runs the request locally). */
function coded(err: unknown, what: string): Error {
  const e = err as { code?: string; message?: string };
  return new BeehiveError(typeof e?.code === 'string' ? e.code : 'BEEHIVE_ERR_PROXY_CONTROL_UNAVAILABLE', `${what}: ${e?.message ?? String(err)}`);
}

/** The packer of one invocation, and what its hand-offs need at the end. */
export interface InvocationPacker {
  pack: Packer;
  /**
   * The invocation's commit point: its hand-offs commit what the worker committed ('commit'), or
   * undo the worker's part so that a local re-run starts from the same database state ('rollback').
   */
  finish(outcome: 'commit' | 'rollback'): Promise<void>;
  /**
   * Before the invocation's other effects are applied: the worker's database connections are closed
   * and each deferred hand-off or grant is checked to commit (claimed, session alive, deferred
   * constraints hold). Rejects with a coded error otherwise (finish('rollback') follows and the
   * request runs again locally).
   */
  prepare(): Promise<void>;
}

const NONE: InvocationPacker = { pack: () => undefined, finish: async () => {}, prepare: async () => {} };

type Held = { kind: 'handoff' | 'grant'; id: string } | { kind: 'failed'; id: ''; err: unknown };

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
      if (isPgObject(v)) {
        throw CaptureErrors.UNSUPPORTED('uses a pg client or pool: start the BeeHive proxy and set BEEHIVE_PROXY_URL and BEEHIVE_PROXY_CONTROL to offload it');
      }
      return undefined;
    };
    return () => ({ ...NONE, pack: refuse });
  }
  const proxy = { host: target.hostname, port: Number(target.port || 5432), database: target.pathname.slice(1) || undefined };
  const aliases = o.proxy ? [o.proxy.address] : [];
  return (capability, shadow) => {
    const handoffs: Array<Promise<Held | undefined>> = [];
    const ctx: PackContext = {
      proxy,
      proxyAliases: aliases,
      prepareHandoff: (r) => control.prepareHandoff(r),
      preparePoolGrant: (r) => control.preparePoolGrant(r),
      capability,
      shadow,
      // A shadow's work is rolled back by its shadow session anyway; everything else waits for the commit point.
      deferCommit: !shadow,
      ttlMs: o.timeoutMs + 5000,
    };
    return {
      pack: (v) => {
        const r = packPg(v, ctx) as PgRecord | Promise<PgRecord> | undefined;
        if (r && !shadow) {
          handoffs.push(
            Promise.resolve(r).then(
              (rec): Held | undefined => ('handoffId' in rec && rec.handoffId ? { kind: 'handoff', id: rec.handoffId } : 'grantId' in rec && rec.grantId ? { kind: 'grant', id: rec.grantId } : undefined),
              // Never prepared: nothing to finish, but the worker may have met the failure (its
              // unpack fails), so the invocation must not commit: prepare refuses.
              (err: unknown): Held => ({ kind: 'failed', id: '', err }),
            ),
          );
        }
        return r as ReturnType<Packer>;
      },
      async prepare() {
        const held = (await Promise.all(handoffs)).filter((h): h is Held => !!h);
        // Sequential keeps it simple to say which one refused; invocations rarely hold more than one.
        for (const h of held) {
          if (h.kind === 'failed') throw coded(h.err, 'a pg object could not be handed to the worker');
          try {
            await (h.kind === 'grant' ? control.preparePoolGrantCommit({ id: h.id }) : control.prepareHandoffCommit({ id: h.id }));
          } catch (err) {
            throw coded(err, `${h.kind === 'grant' ? 'pool grant' : 'hand-off'} ${h.id.slice(0, 8)}… cannot commit`);
          }
        }
      },
      async finish(outcome) {
        const held = (await Promise.all(handoffs)).filter((h): h is Held => !!h && h.kind !== 'failed');
        // A failed finish('rollback') is harmless: the proxy rolls back on its own (finish timeout,
        // grant expiry, or the server connection closing when the proxy dies). A failed
        // finish('commit') after a successful prepare is a process warning: the worker's database
        // work may be lost (docs/guarantees.md, "Database").
        await Promise.all(
          held.map((h) =>
            Promise.resolve()
              .then(() => (h.kind === 'grant' ? control.finishPoolGrant({ id: h.id, outcome }) : control.finishHandoff({ id: h.id, outcome })))
              .then(
                (res) => debug('agent', `${h.kind} ${h.id.slice(0, 8)}… finished: ${res.result}`),
                (err: Error) => {
                  const what = `${h.kind} ${h.id.slice(0, 8)}… finish(${outcome}) failed: ${(err as { code?: string }).code ?? ''} ${err.message}`;
                  // A commit that fails after its prepare succeeded may have lost the worker's database work: say so always.
                  if (outcome === 'commit') process.emitWarning(`BeeHive: ${what}; the invocation's database work may not be committed`, { code: 'BEEHIVE_DB_COMMIT' });
                  else debug('agent', what);
                },
              ),
          ),
        );
      },
    };
  };
}
