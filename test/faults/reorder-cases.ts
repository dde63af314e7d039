/**
 * Issue 4 point 3's reordering: one transfer's packets published out of order, close together (well
 * inside any prefetch window), and what the receiver does about it. Packets of one transfer reach a
 * group's queue in publish order, so a reorder means a broken or hostile sender: filepeer does not
 * reorder, it fails the transfer at the first packet out of place and dead-letters that packet with
 * the reason, and never makes a file of the wrong bytes visible. A sender's retry of the whole
 * transfer (same token) is then a fresh attempt.
 */
import { encodeChunk, type EncodedPacket } from '../../shared/protocol/codec.js';
import type { HandMade } from '../support/packets.js';

export interface ReorderCase {
  name: string;
  order(t: HandMade): EncodedPacket[];
  /**
   * 'delivered': the file is delivered right despite the disorder. Otherwise the dead letters every
   * group must produce, in order, as [reason, the packet blamed: a chunk's sequence number, or 'end'].
   */
  expect: 'delivered' | Array<[reason: string, packet: number | 'end']>;
}

/** Chunk `seq` (1-based) of a hand-made transfer. */
const c = (t: HandMade, seq: number): EncodedPacket => t.chunks[seq - 1]!;
const chunks = (t: HandMade, from: number, to: number): EncodedPacket[] => t.chunks.slice(from - 1, to);
/** Sequence number of the end packet. */
const endSeq = (t: HandMade): number => t.chunks.length + 1;

export const REORDER_CASES: readonly ReorderCase[] = [
  {
    name: 'chunk 3 before chunk 2 (before anything was made durable)',
    order: (t) => [t.start, c(t, 1), c(t, 3), c(t, 2), ...chunks(t, 4, t.chunks.length), t.end],
    expect: [['chunk-gap', 3]],
  },
  {
    name: 'chunk 7 before chunk 6 (after fsyncs and an uploaded S3 part)',
    order: (t) => [t.start, ...chunks(t, 1, 5), c(t, 7), c(t, 6), ...chunks(t, 8, t.chunks.length), t.end],
    expect: [['chunk-gap', 7]],
  },
  {
    name: 'the end before the last chunk',
    order: (t) => [t.start, ...chunks(t, 1, t.chunks.length - 1), t.end, c(t, t.chunks.length)],
    expect: [['chunk-gap', 'end']],
  },
  {
    name: 'chunk 1 before the start',
    order: (t) => [c(t, 1), t.start, ...chunks(t, 2, t.chunks.length), t.end],
    // Chunk 1 names no transfer yet; the start that follows is a fresh attempt, which then misses chunk 1.
    expect: [['unknown-transfer', 1], ['chunk-gap', 2]],
  },
  {
    name: 'the bodies of chunks 2 and 3 swapped, their headers in order',
    order: (t) => [t.start, c(t, 1), encodeChunk(t.token, 2, c(t, 3).content), encodeChunk(t.token, 3, c(t, 2).content), ...chunks(t, 4, t.chunks.length), t.end],
    expect: [['digest-mismatch', 'end']],
  },
  {
    name: 'earlier chunks again after later ones (redelivery-like: 1 2 3 2 1 4 … 8 3 end)',
    order: (t) => [t.start, ...chunks(t, 1, 3), c(t, 2), c(t, 1), ...chunks(t, 4, t.chunks.length), c(t, 3), t.end],
    expect: 'delivered',
  },
];

/** The dead letters a case expects, as [reason, messageId of the packet blamed]. */
export function expectedDeadLetters(rc: ReorderCase, t: HandMade): Array<[string, string]> {
  if (rc.expect === 'delivered') return [];
  return rc.expect.map(([reason, packet]) => [reason, `${t.token}:${packet === 'end' ? endSeq(t) : packet}`]);
}
