import type { Provider } from '../../protocol';
import type { ExportTable } from '../../gc';
import type { Outcome } from '../../offload-worker';
import type { AgentOptions } from '../config';
import type { Invocations } from '../channel/invocations';
import type { HandlerEntry } from '../registry';
import type { InvocationPacker } from './2-pg-pack';

/** What the offload's steps need of the agent. */
export interface DispatchContext {
  options: AgentOptions;
  exports: ExportTable;
  invocations: Invocations;
  channelUrl(): Promise<string>;
  provider(): Provider;
  /** Current global ratio (the controller or an operator changes it). */
  ratio(): number;
  /** Packs pg clients and pools into proxy hand-offs for this invocation. */
  packer(capability: string, shadow: boolean): InvocationPacker;
  onRequestDone(entry: HandlerEntry, where: 'local' | 'offloaded', ms: number): void;
  /** Adjusts the agent's in-flight count. */
  inFlight(delta: number): void;
}

/** An invocation whose worker has answered, still open: it ends by exactly one of commit or discard. */
export interface Invoked {
  outcome: Outcome;
  fetched(): number;
  /** The commit point: memory (lock changes, then the final changes), then the database. */
  commit(): Promise<void>;
  /** Ends the invocation with nothing applied. Idempotent. */
  discard(): Promise<void>;
}
