import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rechunk } from '../../shared/producer/chunker.js';
import { Rng, testSeeds } from './helpers.js';

type Piece = Buffer | Uint8Array | string;

async function* from(pieces: Piece[]): AsyncGenerator<Piece> {
  for (const piece of pieces) yield piece;
}

async function collect(pieces: Piece[], size: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of rechunk(from(pieces), size)) out.push(chunk);
  return out;
}

function bytesOf(piece: Piece): Buffer {
  return typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece);
}

/** Same memory: a zero-copy view over the same bytes. */
function sameMemory(a: Uint8Array, b: Uint8Array): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength;
}

/** A random piece: a Buffer, a Uint8Array view into a larger ArrayBuffer, or a string (possibly multi-byte). */
function randomPiece(rng: Rng, maxLength: number): Piece {
  const length = rng.bool(0.15) ? 0 : rng.int(maxLength + 1);
  switch (rng.int(3)) {
    case 0:
      return rng.bytes(length);
    case 1: {
      const offset = rng.int(8);
      const backing = new Uint8Array(offset + length + rng.int(8));
      backing.fill(0xee);
      const view = backing.subarray(offset, offset + length);
      view.set(rng.bytes(length));
      return view;
    }
    default:
      return Array.from({ length: Math.ceil(length / 2) }, () => rng.pick(['a', 'é', '€', '😀', '\u0000'])).join('');
  }
}

describe('rechunk', () => {
  for (const seed of testSeeds()) {
    it(`cuts random splits into chunks of exactly size bytes (the last may be shorter) that concatenate to the input (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      for (let round = 0; round < 300; round++) {
        const size = rng.pick([1, 2, 3, 7, 16, rng.between(1, 100)]);
        const pieces = Array.from({ length: rng.int(12) }, () => randomPiece(rng, rng.pick([size - 1, size, size + 1, 3 * size + 1, 40])));
        const input = Buffer.concat(pieces.map(bytesOf));
        // All chunks are collected before any is checked: a chunk must not change once yielded.
        const chunks = await collect(pieces, size);
        const where = `seed ${seed}, round ${round}, size ${size}, pieces [${pieces.map((p) => `${typeof p === 'string' ? 's' : Buffer.isBuffer(p) ? 'b' : 'u'}${bytesOf(p).length}`).join(' ')}]`;
        assert.equal(chunks.length, Math.ceil(input.length / size), where);
        chunks.forEach((chunk, i) => {
          assert.ok(Buffer.isBuffer(chunk), where);
          if (i < chunks.length - 1) assert.equal(chunk.length, size, `${where}: chunk ${i}`);
          else assert.ok(chunk.length >= 1 && chunk.length <= size, `${where}: last chunk has ${chunk.length} bytes`);
        });
        assert.deepEqual(Buffer.concat(chunks), input, where);
      }
    });
  }

  it('yields nothing for an empty source or a source of empty pieces', async () => {
    assert.deepEqual(await collect([], 4), []);
    assert.deepEqual(await collect([Buffer.alloc(0), '', new Uint8Array(0)], 4), []);
  });

  it('passes a piece of exactly size bytes through uncopied when nothing is pending', async () => {
    const piece = Buffer.from('abcd');
    const [chunk, ...rest] = await collect([piece], 4);
    assert.equal(rest.length, 0);
    assert.ok(chunk && sameMemory(chunk, piece), 'the chunk is a view over the piece\'s own bytes');
  });

  it('cuts a long piece into zero-copy views when nothing is pending', async () => {
    const piece = Buffer.from('abcdefghij');
    const chunks = await collect([piece], 4);
    assert.deepEqual(chunks.map((c) => c.toString()), ['abcd', 'efgh', 'ij']);
    assert.ok(sameMemory(chunks[0]!, piece.subarray(0, 4)));
    assert.ok(sameMemory(chunks[1]!, piece.subarray(4, 8)));
  });

  it('copies bytes that straddle pieces into a fresh chunk, leaving the pieces untouched', async () => {
    const a = Buffer.from('ab');
    const b = Buffer.from('cdef');
    const chunks = await collect([a, b], 4);
    assert.deepEqual(chunks.map((c) => c.toString()), ['abcd', 'ef']);
    assert.ok(chunks[0]!.buffer !== a.buffer || chunks[0]!.byteOffset !== a.byteOffset);
    assert.equal(a.toString(), 'ab');
    assert.equal(b.toString(), 'cdef');
  });

  it('reads a Uint8Array view by its own offset and length, not its whole ArrayBuffer', async () => {
    const backing = Uint8Array.from([9, 9, 1, 2, 3, 4, 5, 9, 9]);
    const chunks = await collect([backing.subarray(2, 7)], 2);
    assert.deepEqual(Buffer.concat(chunks), Buffer.from([1, 2, 3, 4, 5]));
  });

  it('encodes strings as UTF-8 and may split a multi-byte character across chunks', async () => {
    const chunks = await collect(['é€'], 2); // c3 a9 e2 82 ac
    assert.deepEqual(chunks, [Buffer.from([0xc3, 0xa9]), Buffer.from([0xe2, 0x82]), Buffer.from([0xac])]);
  });

  it('with size 1 yields one chunk per byte', async () => {
    const chunks = await collect([Buffer.from('ab'), 'c', Uint8Array.from([100])], 1);
    assert.deepEqual(chunks.map((c) => c.toString()), ['a', 'b', 'c', 'd']);
  });
});
