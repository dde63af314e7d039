import type { FileEnd, FileStart } from '../protocol/types.js';
import type { PersistedTransfer } from './state.js';

/** Where a delivered file ended up; the receiver's callback gets it beside the file's facts. */
export type Location =
  | { kind: 'memory'; data: Buffer }
  | { kind: 'directory'; path: string }
  | { kind: 's3'; bucket: string; key: string; etag: string | undefined };

/** What a sink is told about a transfer when it opens a writer for it. */
export interface SinkTarget {
  token: string;
  group: string;
  start: FileStart;
}

/**
 * A place files are reassembled into. A sink validates the destination itself (it never
 * trusts the wire), writes chunks in order, and makes a file visible only on commit, which
 * the receiver calls after the file was verified. Durable sinks persist a small state per
 * transfer so that another process can resume it (see state.ts).
 */
export interface Sink<L extends Location = Location> {
  readonly kind: L['kind'];
  /**
   * Whether the sink persists transfer state that another writer (this process later, or another
   * one) can resume from. A receiver that loses its broker channel suspends such transfers and
   * resumes them from state; others it keeps open in memory.
   */
  readonly resumable: boolean;
  /** What this sink persisted about `token` for `group`, if anything. */
  lookup(group: string, token: string): Promise<PersistedTransfer | undefined>;
  /**
   * Transfers of `group` still receiving whose state was last written before `before`. The receiver
   * aborts those nobody will resume (see Subscription.sweepStale): a producer and a receiver that
   * both died leave such state, and nothing else would ever remove it.
   */
  stale(group: string, before: Date): Promise<PersistedTransfer[]>;
  /** Open a writer for a new transfer, or, given its persisted state, resume one. */
  open(target: SinkTarget, resume?: PersistedTransfer): Promise<SinkWriter<L>>;
}

export interface CommitOptions {
  /**
   * Set when the running digest was lost (the transfer was resumed): the sink re-reads what it
   * wrote and compares with this SHA-256 — before the file becomes visible where it can.
   */
  recheckSha256?: string;
}

export interface SinkWriter<L extends Location = Location> {
  /**
   * Chunks the writer may hold before they become durable on their own (an S3 part's worth).
   * The receiver sizes its prefetch from it when it can.
   */
  readonly holdChunks: number;
  /** Append chunk `seq` (chunks come in order, each once). */
  write(seq: number, data: Buffer): Promise<void>;
  /** Highest chunk sequence number whose bytes are durable and recorded, so its message may be acked. */
  durableSeq(): number;
  /**
   * Make everything written so far durable now, even at extra cost (fsync; for S3 an early part, or
   * a staged fragment when too little is buffered for a part). Called when the prefetch runs low.
   */
  flush(): Promise<void>;
  /** Make the verified file visible at its destination. Idempotent for a transfer resumed after commit. */
  commit(end: FileEnd, options?: CommitOptions): Promise<L>;
  /** Record that the file was delivered and its handler ran: a marker against the same file coming again. */
  markDone(): Promise<void>;
  /** Let go of resources but keep what is durable and the state, for this or another process to resume. */
  suspend(): Promise<void>;
  /** Remove everything written for this transfer, state included. Never throws. */
  abort(): Promise<void>;
}
