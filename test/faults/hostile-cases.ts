/**
 * Issue 4 point 5's list of bad input, as packets a hostile or broken publisher puts on the exchange,
 * each with what every receiver group must do with it: dead-letter these packets with these reasons,
 * in this order. Every case uses fresh tokens, so it can only fail transfers of its own.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeChunk, encodeStart, type EncodedPacket } from '../../shared/protocol/codec.js';
import { MAX_CHUNK_SIZE, MAX_CONTROL_BODY_BYTES, MAX_META_BYTES, PacketKind } from '../../shared/protocol/constants.js';
import { newToken } from '../../shared/protocol/token.js';
import type { FileStart } from '../../shared/protocol/types.js';
import { sha256Of } from '../support/data.js';
import { goodStart, jsonWithRawString, packetHeaders, rawPacket } from '../support/packets.js';

export type HostileItem =
  | 'oversize chunk'
  | 'unknown token'
  | 'wrong header types'
  | 'wrong body types'
  | 'bad UTF-8 names'
  | 'escaping destinations'
  | 'wildcard domains'
  | 'oversized meta'
  | 'oversized headers';

/** Packets published with the routing key of `routingDomain` (a receiver binds `<domain>.#`). */
export interface Batch {
  routingDomain: string;
  packets: EncodedPacket[];
}

export interface HostileCase {
  item: HostileItem;
  name: string;
  batches(domain: string): Batch[];
  /** The dead letters every group must produce for this case, in order: [reason, packet type]. */
  expect: Array<[reason: string, type: string]>;
}

/** An absolute path a broken receiver would write to: checked afterwards to be absent. */
export const ABSOLUTE_TARGET = join(tmpdir(), 'filepeer-hostile-absolute.bin');

const json = (body: unknown): Buffer => Buffer.from(JSON.stringify(body));
const start = (token: string, body: Buffer): EncodedPacket => rawPacket(PacketKind.Start, packetHeaders(token, 0), body);

/** A start whose one field is spoiled by `spoil`, on a fresh token. */
function spoiltStart(domain: string, spoil: Record<string, unknown>): EncodedPacket {
  return start(newToken(), json({ ...goodStart(domain), ...spoil }));
}

function startWith(domain: string, overrides: Partial<FileStart>): EncodedPacket {
  return spoiltStart(domain, overrides);
}

/**
 * A transfer that opens fine (start, one chunk of one byte) and whose end body is `end`: a bad end
 * must fail this transfer, and only this one.
 */
function openThenEnd(domain: string, end: Buffer | Record<string, unknown>): EncodedPacket[] {
  const token = newToken();
  const body = Buffer.isBuffer(end) ? end : json(end);
  return [
    encodeStart(token, goodStart(domain, { size: 1 })),
    encodeChunk(token, 1, Buffer.from('x')),
    rawPacket(PacketKind.End, packetHeaders(token, 2), body),
  ];
}

const ONE_BYTE_END = { chunks: 1, bytes: 1, sha256: sha256Of(Buffer.from('x')), meta: {} };
const on = (domain: string, packets: EncodedPacket[]): Batch[] => [{ routingDomain: domain, packets }];
/** `n` dead letters of one reason and packet type. */
const refusals = (n: number, reason: string, type: string): Array<[string, string]> => Array.from({ length: n }, () => [reason, type]);

export const HOSTILE_CASES: readonly HostileCase[] = [
  {
    item: 'oversize chunk',
    name: 'a chunk one byte longer than its transfer\'s chunkSize',
    batches: (d) => {
      const token = newToken();
      return on(d, [encodeStart(token, goodStart(d, { chunkSize: 1024, size: 2048 })), encodeChunk(token, 1, Buffer.alloc(1025, 1))]);
    },
    expect: [['oversize', PacketKind.Chunk]],
  },
  {
    item: 'oversize chunk',
    name: 'a chunk one byte over the protocol maximum of 4 MiB',
    batches: (d) => {
      const token = newToken();
      return on(d, [encodeStart(token, goodStart(d, { chunkSize: MAX_CHUNK_SIZE, size: null })), encodeChunk(token, 1, Buffer.alloc(MAX_CHUNK_SIZE + 1, 2))]);
    },
    expect: [['oversize', PacketKind.Chunk]],
  },
  {
    item: 'unknown token',
    name: 'chunks and end of a transfer nobody started: the first is dead-lettered, the rest dropped',
    batches: (d) => {
      const token = newToken();
      return on(d, [encodeChunk(token, 1, Buffer.from('a')), encodeChunk(token, 2, Buffer.from('b')), rawPacket(PacketKind.End, packetHeaders(token, 3), json({ ...ONE_BYTE_END, chunks: 2, bytes: 2 }))]);
    },
    expect: [['unknown-transfer', PacketKind.Chunk]],
  },
  {
    item: 'unknown token',
    name: 'an end alone, for a token nobody started',
    batches: (d) => on(d, [rawPacket(PacketKind.End, packetHeaders(newToken(), 2), json(ONE_BYTE_END))]),
    expect: [['unknown-transfer', PacketKind.End]],
  },
  {
    item: 'unknown token',
    name: 'token headers that are not 32 lower-case hex characters: upper case, 31 and 33 characters, AMQP bytes',
    batches: (d) => {
      const t = newToken();
      return on(d, [
        rawPacket(PacketKind.Start, packetHeaders(t.toUpperCase(), 0), json(goodStart(d))),
        rawPacket(PacketKind.Start, packetHeaders(t.slice(1), 0), json(goodStart(d))),
        rawPacket(PacketKind.Chunk, packetHeaders(`${t}a`, 1), Buffer.from('x')),
        // amqplib sends a Buffer as a byte array (x), which decodes to a Buffer, not a string.
        rawPacket(PacketKind.Chunk, packetHeaders(Buffer.from(t), 1), Buffer.from('x')),
      ]);
    },
    expect: [...refusals(2, 'malformed-packet', PacketKind.Start), ...refusals(2, 'malformed-packet', PacketKind.Chunk)],
  },
  {
    item: 'wrong header types',
    name: 'protocol version as the string "1", as 2, and missing',
    batches: (d) => on(d, ['1', 2, undefined].map((v) => rawPacket(PacketKind.Start, packetHeaders(newToken(), 0, { 'x-filepeer-version': v }), json(goodStart(d))))),
    expect: refusals(3, 'malformed-packet', PacketKind.Start),
  },
  {
    item: 'wrong header types',
    name: 'sequence numbers as the string "0", 0.5, -1, 2^53 and a boolean',
    batches: (d) => on(d, ['0', 0.5, -1, 2 ** 53, true].map((seq) => rawPacket(PacketKind.Start, packetHeaders(newToken(), seq), json(goodStart(d))))),
    expect: refusals(5, 'malformed-packet', PacketKind.Start),
  },
  {
    item: 'wrong header types',
    name: 'no headers at all, and a packet type nobody knows',
    batches: (d) => on(d, [rawPacket(PacketKind.Start, undefined, json(goodStart(d))), rawPacket('file.delete', packetHeaders(newToken(), 0), json(goodStart(d)))]),
    expect: [['malformed-packet', PacketKind.Start], ['malformed-packet', 'file.delete']],
  },
  {
    item: 'wrong body types',
    name: 'a start with a wrong JSON type in each of its seven fields',
    batches: (d) =>
      on(d, [
        spoiltStart(d, { chunkSize: '1024' }),
        spoiltStart(d, { size: '1' }),
        spoiltStart(d, { filename: 42 }),
        spoiltStart(d, { destination: null }),
        spoiltStart(d, { domain: [d] }),
        spoiltStart(d, { contentType: {} }),
        spoiltStart(d, { startedAt: 0 }),
      ]),
    expect: refusals(7, 'malformed-packet', PacketKind.Start),
  },
  {
    item: 'wrong body types',
    name: 'start bodies that are a JSON array, a string and a number',
    batches: (d) => on(d, [[goodStart(d)], 'start', 0].map((body) => start(newToken(), json(body)))),
    expect: refusals(3, 'malformed-packet', PacketKind.Start),
  },
  {
    item: 'wrong body types',
    name: 'ends with chunks "1", bytes "1", sha256 123 or upper case, meta [], null or "x": each fails its own transfer',
    batches: (d) =>
      on(d, [
        { chunks: '1' },
        { bytes: '1' },
        { sha256: 123 },
        { sha256: ONE_BYTE_END.sha256.toUpperCase() },
        { meta: [] },
        { meta: null },
        { meta: 'x' },
      ].flatMap((spoil) => openThenEnd(d, { ...ONE_BYTE_END, ...spoil }))),
    expect: refusals(7, 'malformed-packet', PacketKind.End),
  },
  {
    item: 'bad UTF-8 names',
    name: 'filename and destination bytes that are not UTF-8: 0xFF, overlong "/", a CESU-8 surrogate, a truncated sequence',
    batches: (d) => {
      const body = goodStart(d) as unknown as Record<string, unknown>;
      const raw = (field: string, bytes: number[]): EncodedPacket => start(newToken(), jsonWithRawString(body, field, Buffer.from(bytes)));
      const dots = [0x2e, 0x2e];
      return on(d, [
        raw('filename', [0x61, 0xff, 0xfe, 0x62]),
        // "..<C0 AF>..<C0 AF>etc": an overlong "/" a lenient decoder turns into a path separator.
        raw('destination', [...dots, 0xc0, 0xaf, ...dots, 0xc0, 0xaf, 0x65, 0x74, 0x63]),
        raw('destination', [0x61, 0xed, 0xa0, 0x80, 0x62]),
        raw('filename', [0x61, 0xe2, 0x82]),
      ]);
    },
    expect: refusals(4, 'malformed-packet', PacketKind.Start),
  },
  {
    item: 'bad UTF-8 names',
    name: 'a lone surrogate escaped in valid JSON text, in the destination and in the filename',
    batches: (d) => on(d, [startWith(d, { destination: 'a/\ud800.bin' }), startWith(d, { filename: '\udc00.bin' })]),
    expect: refusals(2, 'invalid-destination', PacketKind.Start),
  },
  {
    item: 'escaping destinations',
    name: '../ destinations: ../x, ../../x, a/../../x, a/.., ..',
    batches: (d) => on(d, ['../outside.bin', '../../outside.bin', 'a/../../outside.bin', 'a/..', '..'].map((destination) => startWith(d, { destination }))),
    expect: refusals(5, 'invalid-destination', PacketKind.Start),
  },
  {
    item: 'escaping destinations',
    name: 'absolute destinations: a path under the temp directory, //host/share, C:/, c:, /',
    batches: (d) => on(d, [ABSOLUTE_TARGET, '//host/share/x.bin', 'C:/Windows/x.bin', 'c:x.bin', '/'].map((destination) => startWith(d, { destination }))),
    expect: refusals(5, 'invalid-destination', PacketKind.Start),
  },
  {
    item: 'escaping destinations',
    name: 'filenames that are paths: ../x, /x, a/b, ..',
    batches: (d) => on(d, ['../x.bin', '/x.bin', 'a/b.bin', '..'].map((filename) => startWith(d, { filename }))),
    expect: refusals(4, 'invalid-destination', PacketKind.Start),
  },
  {
    item: 'wildcard domains',
    name: 'a start claiming the domain <domain>.* on the routing key of <domain>',
    batches: (d) => on(d, [startWith(d, { domain: `${d}.*` })]),
    expect: [['invalid-domain', PacketKind.Start]],
  },
  {
    item: 'wildcard domains',
    name: 'starts published on the routing keys <prefix>.<domain>.# and .* (a raw sender), claiming those domains',
    batches: (d) => [`${d}.#`, `${d}.*`].map((w) => ({ routingDomain: w, packets: [startWith(d, { domain: w })] })),
    expect: refusals(2, 'invalid-domain', PacketKind.Start),
  },
  {
    item: 'wildcard domains',
    name: 'a start claiming another domain than its routing key carries',
    batches: (d) => on(d, [startWith(d, { domain: `${d}.elsewhere` })]),
    expect: [['malformed-packet', PacketKind.Start]],
  },
  {
    item: 'oversized meta',
    name: 'end meta one byte over 16 KiB, and over 16 KiB in UTF-8 bytes though under it in characters',
    batches: (d) => {
      const overhead = Buffer.byteLength(JSON.stringify({ p: '' }));
      return on(d, [
        ...openThenEnd(d, { ...ONE_BYTE_END, meta: { p: 'x'.repeat(MAX_META_BYTES - overhead + 1) } }),
        ...openThenEnd(d, { ...ONE_BYTE_END, meta: { p: 'é'.repeat(MAX_META_BYTES / 2) } }),
      ]);
    },
    expect: refusals(2, 'oversize', PacketKind.End),
  },
  {
    item: 'oversized meta',
    name: 'an end body over 64 KiB, and a start body over 64 KiB (a long contentType)',
    batches: (d) => {
      const pad = 'x'.repeat(MAX_CONTROL_BODY_BYTES);
      return on(d, [...openThenEnd(d, { ...ONE_BYTE_END, pad }), spoiltStart(d, { contentType: pad })]);
    },
    expect: [['oversize', PacketKind.End], ['oversize', PacketKind.Start]],
  },
  {
    item: 'oversized headers',
    name: 'a bad packet whose headers nearly fill amqplib\'s 64 KiB field-table buffer',
    // The receiver's copy adds its reason headers to the original ones; when they no longer fit,
    // amqplib refuses the publish, and the receiver publishes it again with only the protocol's own
    // headers, so the reason still travels (dead-letter.ts). Not lost, not retried forever.
    batches: (d) => on(d, [rawPacket(PacketKind.Chunk, packetHeaders('not-a-token', 1, { pad: 'p'.repeat(65_400) }), Buffer.from('x'))]),
    expect: [['malformed-packet', PacketKind.Chunk]],
  },
];
