import type { FileEnd, FileStart } from '../protocol/types.js';

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
 * the receiver calls after the file was verified.
 */
export interface Sink<L extends Location = Location> {
  readonly kind: L['kind'];
  open(target: SinkTarget): Promise<SinkWriter<L>>;
}

export interface SinkWriter<L extends Location = Location> {
  /**
   * Chunks the writer may hold before they become durable on their own (an S3 part's worth).
   * The receiver sizes its prefetch from it: the broker must be allowed to deliver that many
   * unacknowledged chunks or the transfer could never progress.
   */
  readonly holdChunks: number;
  /** Append chunk `seq` (chunks come in order, each once). */
  write(seq: number, data: Buffer): Promise<void>;
  /** Highest chunk sequence number whose bytes are durable, so its message may be acked. */
  durableSeq(): number;
  /**
   * Make everything written so far durable now, even at extra cost (fsync; for S3 an early part, or
   * a staged fragment when too little is buffered for a part). Called when the prefetch runs low.
   */
  flush(): Promise<void>;
  /** Make the verified file visible at its destination. */
  commit(end: FileEnd): Promise<L>;
  /** Remove everything written for this transfer. Never throws. */
  abort(): Promise<void>;
}
