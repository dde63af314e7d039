import { createHash } from 'node:crypto';
import { encodeChunk, encodeEnd, encodeStart, type EncodedPacket } from '../../shared/protocol/codec.js';
import { Header, PROTOCOL_VERSION } from '../../shared/protocol/constants.js';
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

/** The three protocol headers of a packet, with overrides: a value of undefined removes that header. */
export function packetHeaders(token: unknown, seq: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const h: Record<string, unknown> = { [Header.Version]: PROTOCOL_VERSION, [Header.Token]: token, [Header.Seq]: seq, ...overrides };
  for (const key of Object.keys(h)) if (h[key] === undefined) delete h[key];
  return h;
}

/** A packet as a raw publisher could send it: any type, any headers (or none), any body bytes. */
export function rawPacket(type: string | undefined, headers: Record<string, unknown> | undefined, content: Buffer): EncodedPacket {
  return { content, options: { type, headers, persistent: true, messageId: `raw:${String(headers?.[Header.Seq])}` } };
}

/**
 * `body` as JSON, with the string value of `field` replaced by `raw` bytes, which need not be UTF-8:
 * what a sender that does not encode its names would put on the wire.
 */
export function jsonWithRawString(body: Record<string, unknown>, field: string, raw: Buffer): Buffer {
  const marker = `\u0001RAW-${field}\u0001`;
  const json = Buffer.from(JSON.stringify({ ...body, [field]: marker }));
  const quoted = Buffer.from(JSON.stringify(marker));
  const at = json.indexOf(quoted);
  return Buffer.concat([json.subarray(0, at + 1), raw, json.subarray(at + quoted.length - 1)]);
}

/** A FileStart that passes every check, for tests that spoil one field of it. */
export function goodStart(domain: string, overrides: Partial<FileStart> = {}): FileStart {
  return {
    filename: 'hostile.bin',
    destination: 'hostile/hostile.bin',
    domain,
    size: 1,
    contentType: 'application/octet-stream',
    chunkSize: 1024,
    startedAt: new Date().toISOString(),
    ...overrides,
  };
}
