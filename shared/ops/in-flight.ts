import { SinkError, messageOf } from '../errors.js';
import type { Sink } from '../sinks/types.js';

/** A transfer a group's receiver has started and not finished, as its sink's state document tells. */
export interface InFlightTransfer {
  token: string;
  domain: string;
  destination: string;
  /** Announced by the sender; null when it streamed without one. */
  size: number | null;
  /** Bytes made durable so far, and the chunk they run up to. */
  durableBytes: number;
  durableSeq: number;
  /** When the receiver last made progress on it. */
  updatedAt: string;
}

const END_OF_TIME = new Date(8.64e15);

/**
 * The transfers of `group` still receiving, from the state its receiver persists in the sink after
 * every durable step (`.filepeer/state/<group>/`, PROTOCOL §9.10). Sink.stale(group, before) lists
 * exactly those whose state was written before `before`; before the end of time, that is all of them.
 * A transfer shows up from its first durable step on (an fsync every 8 MiB on disk, an S3 part).
 */
export async function inFlightTransfers(sink: Sink, group: string): Promise<InFlightTransfer[]> {
  let states;
  try {
    states = await sink.stale(group, END_OF_TIME);
  } catch (cause) {
    throw new SinkError(`cannot read the transfer state of ${group}: ${messageOf(cause)}`, { cause });
  }
  return states
    .map((s) => ({
      token: s.token,
      domain: s.start.domain,
      destination: s.start.destination,
      size: s.start.size,
      durableBytes: s.durableBytes,
      durableSeq: s.durableSeq,
      updatedAt: s.updatedAt,
    }))
    .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
}
