import { createHash, type Hash } from 'node:crypto';
import {
  ChunkCountMismatchError,
  ChunkGapError,
  DigestMismatchError,
  OversizeError,
  SizeMismatchError,
} from '../errors.js';
import type { FileEnd, FileStart } from '../protocol/types.js';

/** What the receiver should do with a chunk the reassembler has looked at. */
export type ChunkVerdict = 'write' | 'duplicate';

/**
 * The per-transfer state machine, free of I/O so it can be tested alone.
 *
 * Packets of one transfer arrive in order from one queue (single active consumer), but at least
 * once: a sequence number already seen is a duplicate and is dropped; one beyond the next expected
 * is a gap (a packet was lost) and fails the transfer. Every chunk but the last must be exactly
 * `chunkSize` bytes, so after a short chunk no other may follow. The end packet is checked against
 * what arrived: chunk count, byte count, size announced at start, and the SHA-256 of the bytes.
 */
export class Reassembler {
  private readonly hash: Hash = createHash('sha256');
  /** Sequence number of the last chunk accepted (0 = none yet). */
  private lastSeq = 0;
  private bytes = 0;
  private sawShortChunk = false;
  /**
   * True when this transfer was resumed from persisted state after some chunks: the bytes before
   * were hashed by another process, so the digest must be checked by re-reading the result.
   */
  readonly digestLost: boolean;

  constructor(
    readonly token: string,
    readonly start: FileStart,
    private readonly maxBytes: number = Number.MAX_SAFE_INTEGER,
    resumeFrom?: { seq: number; bytes: number },
  ) {
    if (start.size !== null && start.size > maxBytes) {
      throw new OversizeError(`file of ${start.size} bytes exceeds this receiver's limit of ${maxBytes}`);
    }
    this.lastSeq = resumeFrom?.seq ?? 0;
    this.bytes = resumeFrom?.bytes ?? 0;
    this.sawShortChunk = this.bytes < this.lastSeq * start.chunkSize;
    this.digestLost = this.lastSeq > 0;
  }

  get receivedBytes(): number {
    return this.bytes;
  }

  get receivedChunks(): number {
    return this.lastSeq;
  }

  /** Look at chunk `seq`; on 'write' the bytes are counted and hashed and must be written next. */
  acceptChunk(seq: number, data: Buffer): ChunkVerdict {
    if (seq <= this.lastSeq) return 'duplicate';
    if (seq !== this.lastSeq + 1) throw new ChunkGapError(this.token, this.lastSeq + 1, seq);
    const { chunkSize, size } = this.start;
    if (data.length > chunkSize) {
      throw new OversizeError(`transfer ${this.token}: chunk ${seq} has ${data.length} bytes, chunk size is ${chunkSize}`);
    }
    if (this.sawShortChunk) {
      throw new SizeMismatchError(`transfer ${this.token}: chunk ${seq} follows a short chunk; only the last may be short`);
    }
    if (data.length === 0) {
      throw new SizeMismatchError(`transfer ${this.token}: chunk ${seq} is empty`);
    }
    const total = this.bytes + data.length;
    if (size !== null && total > size) {
      throw new SizeMismatchError(`transfer ${this.token}: ${total} bytes received, the sender announced ${size}`);
    }
    if (total > this.maxBytes) {
      throw new OversizeError(`transfer ${this.token}: ${total} bytes exceed this receiver's limit of ${this.maxBytes}`);
    }
    if (data.length < chunkSize) this.sawShortChunk = true;
    this.lastSeq = seq;
    this.bytes = total;
    this.hash.update(data);
    return 'write';
  }

  /**
   * Check the end packet against what arrived. Returns the verified digest (the sender's, still to be
   * checked by re-reading, when `digestLost`); throws an IntegrityError (or ChunkGapError when chunks
   * are missing at the tail) otherwise.
   */
  finish(endSeq: number, end: FileEnd): string {
    if (endSeq !== this.lastSeq + 1) throw new ChunkGapError(this.token, this.lastSeq + 1, endSeq);
    if (end.chunks !== this.lastSeq) {
      throw new ChunkCountMismatchError(`transfer ${this.token}: ${this.lastSeq} chunks received, the sender sent ${end.chunks}`);
    }
    if (end.bytes !== this.bytes) {
      throw new SizeMismatchError(`transfer ${this.token}: ${this.bytes} bytes received, the sender sent ${end.bytes}`);
    }
    if (this.start.size !== null && this.start.size !== this.bytes) {
      throw new SizeMismatchError(`transfer ${this.token}: ${this.bytes} bytes received, the sender announced ${this.start.size}`);
    }
    if (this.digestLost) return end.sha256;
    const actual = this.hash.digest('hex');
    if (actual !== end.sha256) throw new DigestMismatchError(this.token, end.sha256, actual);
    return actual;
  }
}
