/** Anything that yields bytes: a Node stream, an async generator, or an array of Buffers. */
export type ByteSource = AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>;

/**
 * Re-cut a byte stream into chunks of exactly `size` bytes (the last may be shorter).
 * Receivers rely on it: every chunk but the last is full, so a chunk's offset is
 * (seq - 1) * chunkSize. A piece that already has the right size passes through uncopied.
 */
export async function* rechunk(
  source: ByteSource,
  size: number,
): AsyncGenerator<Buffer> {
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  let pending: Buffer | undefined;
  let filled = 0;
  for await (const piece of source) {
    let input = typeof piece === 'string' ? Buffer.from(piece) : Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    while (input.length > 0) {
      if (filled === 0 && input.length >= size) {
        yield input.length === size ? input : input.subarray(0, size);
        input = input.subarray(size);
        continue;
      }
      pending ??= Buffer.allocUnsafe(size);
      const n = input.copy(pending, filled);
      filled += n;
      input = input.subarray(n);
      if (filled === size) {
        yield pending;
        pending = undefined;
        filled = 0;
      }
    }
  }
  if (pending && filled > 0) yield pending.subarray(0, filled);
}
