import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ChunkCountMismatchError,
  ChunkGapError,
  DigestMismatchError,
  IntegrityError,
  OversizeError,
  SizeMismatchError,
} from '../../shared/errors.js';
import { Reassembler } from '../../shared/consumer/reassembler.js';
import type { FileEnd } from '../../shared/protocol/types.js';
import { EMPTY_SHA256, Rng, TOKEN, sha256Hex, testSeeds, validStart } from './helpers.js';

const FILE = Buffer.from('0123456789'); // 10 bytes: chunks of 4, 4, 2 at chunkSize 4
const CHUNKS = [FILE.subarray(0, 4), FILE.subarray(4, 8), FILE.subarray(8)];

function reassembler(size: number | null = FILE.length, chunkSize = 4, maxBytes?: number): Reassembler {
  return new Reassembler(TOKEN, validStart({ size, chunkSize }), maxBytes);
}

function endFor(data: Buffer, chunks: number, overrides: Partial<FileEnd> = {}): FileEnd {
  return { chunks, bytes: data.length, sha256: sha256Hex(data), meta: {}, ...overrides };
}

/** Feed the three chunks of FILE in order. */
function fed(r: Reassembler = reassembler()): Reassembler {
  CHUNKS.forEach((chunk, i) => assert.equal(r.acceptChunk(i + 1, chunk), 'write'));
  return r;
}

describe('Reassembler: chunks', () => {
  it('accepts chunks in order, counting bytes and chunks, and finish returns the SHA-256 of the file', () => {
    const r = reassembler();
    assert.equal(r.acceptChunk(1, CHUNKS[0]!), 'write');
    assert.equal(r.receivedChunks, 1);
    assert.equal(r.receivedBytes, 4);
    assert.equal(r.acceptChunk(2, CHUNKS[1]!), 'write');
    assert.equal(r.acceptChunk(3, CHUNKS[2]!), 'write');
    assert.equal(r.receivedChunks, 3);
    assert.equal(r.receivedBytes, 10);
    assert.equal(r.finish(4, endFor(FILE, 3)), sha256Hex(FILE));
  });

  it('calls a repeated sequence number a duplicate and leaves counts and digest untouched', () => {
    const r = reassembler();
    r.acceptChunk(1, CHUNKS[0]!);
    r.acceptChunk(2, CHUNKS[1]!);
    assert.equal(r.acceptChunk(2, CHUNKS[1]!), 'duplicate');
    assert.equal(r.acceptChunk(1, Buffer.from('XXXX')), 'duplicate', 'a duplicate is judged by seq, not content');
    assert.equal(r.receivedChunks, 2);
    assert.equal(r.receivedBytes, 8);
    r.acceptChunk(3, CHUNKS[2]!);
    assert.equal(r.finish(4, endFor(FILE, 3)), sha256Hex(FILE));
  });

  it('throws ChunkGapError when a sequence number is skipped, naming the expected and received numbers', () => {
    const r = reassembler();
    r.acceptChunk(1, CHUNKS[0]!);
    assert.throws(() => r.acceptChunk(3, CHUNKS[2]!), (err: unknown) => {
      assert.ok(err instanceof ChunkGapError);
      assert.equal(err.token, TOKEN);
      assert.equal(err.expected, 2);
      assert.equal(err.got, 3);
      return true;
    });
  });

  it('throws ChunkGapError when the first chunk is not sequence number 1', () => {
    assert.throws(() => reassembler().acceptChunk(2, CHUNKS[0]!), ChunkGapError);
  });

  it('throws OversizeError for a chunk larger than the announced chunk size', () => {
    assert.throws(() => reassembler(null, 4).acceptChunk(1, Buffer.alloc(5)), OversizeError);
  });

  it('throws SizeMismatchError for any chunk after a short one (only the last chunk may be short)', () => {
    const r = reassembler(null, 4);
    r.acceptChunk(1, Buffer.alloc(3));
    assert.throws(() => r.acceptChunk(2, Buffer.alloc(4)), SizeMismatchError);
    const r2 = reassembler(null, 4);
    r2.acceptChunk(1, Buffer.alloc(1));
    assert.throws(() => r2.acceptChunk(2, Buffer.alloc(1)), /follows a short chunk/);
  });

  it('throws SizeMismatchError for an empty chunk', () => {
    assert.throws(() => reassembler(null).acceptChunk(1, Buffer.alloc(0)), (err: unknown) => {
      assert.ok(err instanceof SizeMismatchError);
      assert.match(err.message, /is empty/);
      return true;
    });
  });

  it('throws SizeMismatchError as soon as more bytes arrive than the start packet announced', () => {
    const r = reassembler(5, 4);
    r.acceptChunk(1, Buffer.alloc(4));
    assert.throws(() => r.acceptChunk(2, Buffer.alloc(4)), SizeMismatchError);
  });

  it('leaves its state unchanged when it refuses a chunk', () => {
    const r = reassembler(FILE.length, 4);
    r.acceptChunk(1, CHUNKS[0]!);
    assert.throws(() => r.acceptChunk(2, Buffer.alloc(5)), OversizeError);
    assert.throws(() => r.acceptChunk(2, Buffer.alloc(0)), SizeMismatchError);
    assert.equal(r.receivedChunks, 1);
    assert.equal(r.receivedBytes, 4);
    r.acceptChunk(2, CHUNKS[1]!);
    r.acceptChunk(3, CHUNKS[2]!);
    assert.equal(r.finish(4, endFor(FILE, 3)), sha256Hex(FILE));
  });
});

describe('Reassembler: finish', () => {
  it('verifies an empty file: no chunks, end sequence number 1, the SHA-256 of the empty string', () => {
    const r = reassembler(0);
    assert.equal(r.finish(1, { chunks: 0, bytes: 0, sha256: EMPTY_SHA256, meta: {} }), EMPTY_SHA256);
    assert.equal(sha256Hex(''), EMPTY_SHA256);
  });

  it('throws ChunkCountMismatchError when the end packet counts other chunks than arrived', () => {
    assert.throws(() => fed().finish(4, endFor(FILE, 4)), (err: unknown) => {
      assert.ok(err instanceof ChunkCountMismatchError);
      assert.ok(err instanceof IntegrityError);
      return true;
    });
  });

  it('throws SizeMismatchError when the end packet counts other bytes than arrived', () => {
    assert.throws(() => fed().finish(4, endFor(FILE, 3, { bytes: 11 })), SizeMismatchError);
    assert.throws(() => fed().finish(4, endFor(FILE, 3, { bytes: 9 })), SizeMismatchError);
  });

  it('throws SizeMismatchError when fewer bytes arrived than the start packet announced, even if the end agrees', () => {
    const r = reassembler(12, 4);
    const data = FILE.subarray(0, 8);
    r.acceptChunk(1, data.subarray(0, 4));
    r.acceptChunk(2, data.subarray(4));
    assert.throws(() => r.finish(3, endFor(data, 2)), /announced 12/);
  });

  it('throws DigestMismatchError naming both digests when the bytes do not hash to the sender\'s SHA-256', () => {
    const wrong = sha256Hex('something else');
    assert.throws(() => fed().finish(4, endFor(FILE, 3, { sha256: wrong })), (err: unknown) => {
      assert.ok(err instanceof DigestMismatchError);
      assert.ok(err instanceof IntegrityError);
      assert.equal(err.expected, wrong);
      assert.equal(err.actual, sha256Hex(FILE));
      assert.equal(err.token, TOKEN);
      return true;
    });
  });

  it('throws DigestMismatchError when a chunk\'s bytes were altered in transit (same sizes)', () => {
    const r = reassembler();
    r.acceptChunk(1, CHUNKS[0]!);
    r.acceptChunk(2, Buffer.from('4567'.replace('5', '6')));
    r.acceptChunk(3, CHUNKS[2]!);
    assert.throws(() => r.finish(4, endFor(FILE, 3)), DigestMismatchError);
  });

  it('throws ChunkGapError when the end arrives while chunks are missing at the tail', () => {
    const r = reassembler();
    r.acceptChunk(1, CHUNKS[0]!);
    assert.throws(() => r.finish(4, endFor(FILE, 3)), (err: unknown) => {
      assert.ok(err instanceof ChunkGapError);
      assert.equal(err.expected, 2);
      assert.equal(err.got, 4);
      return true;
    });
  });

  it('throws ChunkGapError for an end whose sequence number is not one past the last chunk', () => {
    assert.throws(() => fed().finish(3, endFor(FILE, 2)), ChunkGapError);
  });
});

describe('Reassembler: receiver limit (maxBytes)', () => {
  it('refuses at construction a file whose announced size exceeds maxBytes, with OversizeError', () => {
    assert.throws(() => reassembler(101, 4, 100), OversizeError);
    assert.doesNotThrow(() => reassembler(100, 4, 100));
  });

  it('refuses with OversizeError the chunk that takes a file of unknown size past maxBytes', () => {
    const r = reassembler(null, 4, 10);
    r.acceptChunk(1, Buffer.alloc(4));
    r.acceptChunk(2, Buffer.alloc(4));
    assert.throws(() => r.acceptChunk(3, Buffer.alloc(4)), OversizeError);
  });

  it('refuses with OversizeError a last short chunk that ends one byte past maxBytes', () => {
    const r = reassembler(null, 4, 10);
    r.acceptChunk(1, Buffer.alloc(4));
    r.acceptChunk(2, Buffer.alloc(4));
    assert.throws(() => r.acceptChunk(3, Buffer.alloc(3)), OversizeError);
  });

  it('accepts a file of exactly maxBytes', () => {
    const r = reassembler(null, 4, 10);
    fed(r);
    assert.equal(r.finish(4, endFor(FILE, 3)), sha256Hex(FILE));
  });
});

describe('Reassembler: random files', () => {
  for (const seed of testSeeds()) {
    it(`verifies random files cut at random chunk sizes, with duplicates replayed in between (seed ${seed})`, () => {
      const rng = new Rng(seed);
      for (let round = 0; round < 200; round++) {
        const data = rng.bytes(rng.int(300));
        const chunkSize = rng.between(1, 64);
        const known = rng.bool();
        const r = new Reassembler(TOKEN, validStart({ size: known ? data.length : null, chunkSize }));
        const chunks: Buffer[] = [];
        for (let at = 0; at < data.length; at += chunkSize) chunks.push(data.subarray(at, at + chunkSize));
        chunks.forEach((chunk, i) => {
          assert.equal(r.acceptChunk(i + 1, chunk), 'write', `seed ${seed}, round ${round}, chunk ${i + 1}`);
          if (rng.bool(0.3)) {
            const again = rng.between(1, i + 1);
            assert.equal(r.acceptChunk(again, chunks[again - 1]!), 'duplicate', `seed ${seed}, round ${round}`);
          }
        });
        const digest = r.finish(chunks.length + 1, endFor(data, chunks.length));
        assert.equal(digest, sha256Hex(data), `seed ${seed}, round ${round}`);
      }
    });
  }
});
