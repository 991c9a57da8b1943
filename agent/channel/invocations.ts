import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Lease } from '../../gc';

/** What the server knows of one in-flight invocation. */
export interface InvocationRecord {
  id: string;
  cap: Buffer;
  lease: Lease;
  handlerId: string;
  /** The closure when it travels over the channel instead of the invoke payload. */
  closure?: Buffer;
  refined: Set<number>;
  fetched: number;
  locks: Set<string>;
  shadow: boolean;
  /** Pack records still being prepared when the closure was captured. */
  packs: Array<Promise<{ unpacker: string }>>;
}

/** The table of live invocations and their capabilities. */
export class Invocations {
  private readonly live = new Map<string, InvocationRecord>();
  private seq = 0;

  open(handlerId: string, lease: Lease, refined: Set<number>, shadow = false): { record: InvocationRecord; cap: string } {
    const cap = randomBytes(24);
    const id = `${process.pid.toString(36)}-${(++this.seq).toString(36)}-${randomBytes(4).toString('hex')}`;
    const record: InvocationRecord = { id, cap, lease, handlerId, refined, fetched: 0, locks: new Set(), shadow, packs: [] };
    this.live.set(id, record);
    return { record, cap: cap.toString('base64url') };
  }

  /** The invocation if `cap` is its capability (constant-time compare), else undefined. */
  authorize(inv: unknown, cap: unknown): InvocationRecord | undefined {
    if (typeof inv !== 'string' || typeof cap !== 'string') return undefined;
    const r = this.live.get(inv);
    if (!r) return undefined;
    const given = Buffer.from(cap, 'base64url');
    if (given.length !== r.cap.length || !timingSafeEqual(given, r.cap)) return undefined;
    return r;
  }

  close(id: string): InvocationRecord | undefined {
    const r = this.live.get(id);
    this.live.delete(id);
    r?.lease.release();
    return r;
  }

  get size(): number {
    return this.live.size;
  }
}
