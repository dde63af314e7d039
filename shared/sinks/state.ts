import { z } from 'zod';
import { SinkError } from '../errors.js';
import { parseStart } from '../protocol/codec.js';
import type { FileStart } from '../protocol/types.js';

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

const stateSchema = z.object({
  v: z.literal(1),
  token: z.string().regex(/^[0-9a-f]{32}$/),
  group: z.string().min(1),
  phase: z.enum(['receiving', 'committed', 'done']),
  start: z.record(z.string(), z.unknown()),
  durableSeq: z.number().int().nonnegative(),
  durableBytes: z.number().int().nonnegative(),
  sink: z.unknown(),
  updatedAt: z.string(),
});

export function encodeState(state: PersistedTransfer): Buffer {
  return Buffer.from(JSON.stringify(state));
}

/** Parse a state document; a corrupt one is a SinkError naming where it was found. */
export function decodeState<S>(bytes: Buffer | string, where: string, sinkSchema: z.ZodType<S>): PersistedTransfer<S> {
  try {
    const raw = stateSchema.parse(JSON.parse(bytes.toString()));
    return { ...raw, start: parseStart(raw.start), sink: sinkSchema.parse(raw.sink) };
  } catch (cause) {
    throw new SinkError(`transfer state at ${where} is unreadable`, { cause });
  }
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
