import type { Request, Response } from 'express';
import type { Lease } from '../../gc';
import { captureClosure, markStructural } from '../capture/closure';
import type { InvocationRecord } from '../channel/invocations';
import type { HandlerEntry } from '../registry';
import type { DispatchContext } from './context';
import { nestAllowsMemberWrites } from './2-nest-call';
import type { InvocationPacker } from './2-pg-pack';
import { snapshotRequest, snapshotResponse } from './2-request-snapshot';

/**
 * Step 2, capture (DESIGN.md §3 step 4): the invocation opens (a lease on the export table, a record
 * with its capability, a pg packer), then the handler's root — its code, captured variables,
 * receiver and arguments — is encoded within the size budget. The request and response go as
 * snapshots (2-request-snapshot.ts, 2-session-snapshot.ts), a Nest method's call as its own root
 * (2-nest-call.ts), pg clients and pools as proxy hand-offs (2-pg-pack.ts).
 */

const now = () => performance.now();

/** One open invocation: what its capture, its worker's calls and its ending share. */
export interface Opened {
  lease: Lease;
  record: InvocationRecord;
  cap: string;
  packer: InvocationPacker;
}

/** Opens the invocation; it ends through 4-commit.ts's `endings`, commit or discard. */
export function openInvocation(ctx: DispatchContext, entry: HandlerEntry, shadow: boolean, nest?: { self: unknown }): Opened {
  const lease = ctx.exports.lease();
  const { record, cap } = ctx.invocations.open(entry.id, lease, entry.refined, shadow);
  if (nest) record.allowMemberWrites = (cls, members) => nestAllowsMemberWrites(entry, nest.self, cls, members);
  return { lease, record, cap, packer: ctx.packer(cap, shadow) };
}

/** An Express handler's root: the handler, its receiver, the request and the response's starting state. */
export function expressRoot(entry: HandlerEntry, self: unknown, req: Request, res: Response): object {
  const root = { handler: entry.fn, self, req: snapshotRequest(req), res: snapshotResponse(res), awaitPromise: entry.expressMajor >= 5, style: 'express' };
  markStructural(root, root.req, root.req.props, root.req.app, root.res);
  return root;
}

/**
 * Encodes the root for the worker. Every object shipped inline joins the invocation's read set; a
 * hot one goes as a remote reference instead. A refusal is for good (`notOffloadable`), unless the
 * capture says the obstacle passes (a pg client still connecting).
 */
export function captureRoot(ctx: DispatchContext, entry: HandlerEntry, inv: Opened, root: object): Buffer {
  const { lease, record, packer } = inv;
  const contention = ctx.invocations.contention;
  const tc = now();
  let bytes: Buffer;
  try {
    const captured = captureClosure(root, {
      lease,
      budget: ctx.options.closureBudget,
      // Planned only once a closure of this handler went past the budget (most never do).
      unplannedFirst: !entry.closurePlanned,
      refined: entry.refined,
      peekId: (o) => ctx.exports.peekId(o),
      onShipped: (o) => record.reads.note(o),
      onBindings: (changed) => record.reads.noteCheck(changed),
      asReference: (o) => contention.isHot(o),
      allowMemberWrites: record.allowMemberWrites,
      pack: packer.pack,
      deferPack: (p) => {
        // Not awaited here: a failed pack surfaces when the worker asks for it.
        p.catch(() => {});
        return record.packs.push(p) - 1;
      },
    });
    if (captured.replanned) entry.closurePlanned = true;
    bytes = captured.bytes;
  } catch (err) {
    throw Object.assign(err as Error, { notOffloadable: !(err as { transient?: boolean }).transient });
  }
  entry.captureMs.add(now() - tc);
  entry.closureBytes.add(bytes.length);
  return bytes;
}
