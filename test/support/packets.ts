import { createHash } from 'node:crypto';
import { encodeChunk, encodeEnd, encodeStart, type EncodedPacket } from '../../shared/protocol/codec.js';
import { newToken } from '../../shared/protocol/token.js';
import type { FileEnd, FileStart } from '../../shared/protocol/types.js';

/** A hand-built transfer, as a raw publisher would send it, with parts a test may swap out. */
export interface HandMade {
  token: string;
  start: EncodedPacket;
  chunks: EncodedPacket[];
  end: EncodedPacket;
  data: Buffer;
}

export function handMade(
  data: Buffer,
  options: { domain: string; chunkSize: number; destination?: string; token?: string; start?: Partial<FileStart>; end?: Partial<FileEnd> },
): HandMade {
  const token = options.token ?? newToken();
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += options.chunkSize) pieces.push(data.subarray(i, i + options.chunkSize));
  const start = encodeStart(token, {
    filename: 'hand.bin',
    destination: options.destination ?? `hand/${token}.bin`,
    domain: options.domain,
    size: data.length,
    contentType: 'application/octet-stream',
    chunkSize: options.chunkSize,
    startedAt: new Date().toISOString(),
    ...options.start,
  });
  const chunks = pieces.map((p, i) => encodeChunk(token, i + 1, p));
  const end = encodeEnd(token, pieces.length + 1, {
    chunks: pieces.length,
    bytes: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    meta: {},
    ...options.end,
  });
  return { token, start, chunks, end, data };
}
