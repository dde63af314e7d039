import type { FileStart } from '../protocol/types.js';
import type * as StateDecode from './state-decode.js';

/**
 * What a sink persists about a transfer so that another process (after a crash, a Lambda's time
 * budget, or a fail-over inside the group) can resume it without the sender resending, and so that
 * a file already delivered to a group is recognised when it is broadcast again.
 *
 * Written after every durable step (an fsync, an uploaded part, a staged fragment) and before the
 * chunks it covers are acked: a crash between the two only means those chunks come again as
 * duplicates. Never relies on S3 ListParts (s3rver lacks it; the state is our own).
 */
export type TransferPhase = 'receiving' | 'committed' | 'done';

export interface PersistedTransfer<S = unknown> {
  v: 1;
  token: string;
  group: string;
  /**
   * 'receiving' while chunks arrive; 'committed' once the verified file is being made visible (so a
   * crash right after is finished, not redone); 'done' once its handler ran: then the state is only a
   * marker that recognises the same file broadcast again.
   */
  phase: TransferPhase;
  start: FileStart;
  /** Chunks 1..durableSeq are durable, `durableBytes` bytes in all. */
  durableSeq: number;
  durableBytes: number;
  /** Sink-specific: the S3 upload id and parts, staged fragments… */
  sink: S;
  updatedAt: string;
}

export function encodeState(state: PersistedTransfer): Buffer {
  return Buffer.from(JSON.stringify(state));
}

let decoding: Promise<typeof StateDecode> | undefined;

/**
 * The state decoder and its schemas (zod), loaded when a state document is first read. zod adds
 * about 4 MiB to the heap, and a heap that size makes V8 run a full collection every few MiB of
 * chunks that pass through (docs/BENCHMARKS.md); a transfer that resumes nothing never reads one.
 */
export function stateDecoder(): Promise<typeof StateDecode> {
  decoding ??= import('./state-decode.js');
  return decoding;
}

/** Where a group's state documents are, under a sink's hidden `.filepeer/` area. */
export function stateDir(group: string): string {
  return `.filepeer/state/${group}/`;
}

/** A transfer still receiving whose state was last written before `before`: a candidate for the sweep. */
export function isStale(state: PersistedTransfer, before: Date): boolean {
  return state.phase === 'receiving' && Date.parse(state.updatedAt) < before.getTime();
}

/** The token of a state document's file name, or undefined for anything else found there. */
export function tokenOfStateName(name: string): string | undefined {
  return /^([0-9a-f]{32})\.json$/.exec(name)?.[1];
}

/** The state's path under a sink's hidden `.filepeer/` area: one document per group and token. */
export function stateName(group: string, token: string): string {
  return `.filepeer/state/${group}/${token}.json`;
}
