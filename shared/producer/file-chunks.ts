import type { FileHandle } from 'node:fs/promises';

/**
 * The chunks of an open file, read into a ring of reused Buffers, the next read already under way
 * while the current chunk is hashed and published.
 *
 * A file stream allocates a new Buffer for every chunk, and each lives until the broker confirms it
 * (the confirm window, 16 MiB): long enough to outlive two young-generation GCs, so every chunk's
 * memory was freed only by a full GC, and the sender's RSS grew with the garbage between them.
 * Reusing the Buffers keeps the sender's memory at the ring's size.
 *
 * A Buffer is reused only once the chunk it held is confirmed (`confirmed()` counts the chunks the
 * broker confirmed so far; the publisher keeps unconfirmed ones to publish again after a lost
 * connection). The ring is sized from the confirm window so that this is the common case; when it is
 * not, a fresh Buffer is taken, never a busy one.
 */
export async function* fileChunks(
  handle: FileHandle,
  chunkSize: number,
  ringSize: number,
  confirmed: () => number,
): AsyncGenerator<Buffer> {
  const ring: Array<Buffer | undefined> = new Array<Buffer | undefined>(ringSize);
  /** A Buffer for chunk `index` (0-based): its ring slot's, if the chunk that had it is confirmed. */
  const bufferFor = (index: number): Buffer => {
    const slot = index % ringSize;
    const previous = ring[slot];
    if (previous && index - ringSize < confirmed()) return previous;
    const fresh = Buffer.allocUnsafe(chunkSize);
    ring[slot] = fresh;
    return fresh;
  };
  const readChunk = async (index: number): Promise<Buffer> => {
    const buffer = bufferFor(index);
    let filled = 0;
    while (filled < chunkSize) {
      const { bytesRead } = await handle.read(buffer, filled, chunkSize - filled, index * chunkSize + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === chunkSize ? buffer : buffer.subarray(0, filled);
  };
  /** Start reading chunk `index`; a failure is thrown where the chunk is awaited, never unhandled. */
  const readAhead = (index: number): Promise<Buffer> => {
    const read = readChunk(index);
    read.catch(() => undefined);
    return read;
  };
  let index = 0;
  let next = readAhead(0);
  try {
    for (;;) {
      const chunk = await next;
      if (chunk.length === 0) return;
      index++;
      // Read ahead while this chunk is hashed and published; a short chunk was the last.
      next = chunk.length === chunkSize ? readAhead(index) : Promise.resolve(Buffer.alloc(0));
      yield chunk;
    }
  } finally {
    // Stopped early (the broadcast failed): let the read in flight end before the file is closed.
    await next.catch(() => undefined);
  }
}

/**
 * Chunks the publisher may hold unconfirmed at once (the window, by count and by bytes), plus the one
 * being published and the one being read: a ring this size never has to wait for a confirm.
 */
export function ringSizeFor(chunkSize: number, windowMessages: number, windowBytes: number): number {
  return Math.min(windowMessages, Math.max(1, Math.floor(windowBytes / chunkSize))) + 2;
}
