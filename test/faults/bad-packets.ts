/**
 * Packets that are bad by construction, one of issue 4 point 5's kinds each, generated at random
 * from a seed: unlike the mutation fuzzer (which may leave a packet valid), every case here has one
 * known defect, so the decoder must refuse every one, with the error class the defect calls for.
 */
import {
  InvalidDestinationError,
  InvalidDomainError,
  MalformedPacketError,
  OversizeError,
  type FilepeerError,
} from '../../shared/errors.js';
import { encodeChunk, encodeEnd, encodeStart, type EncodedPacket } from '../../shared/protocol/codec.js';
import { Header, MAX_CHUNK_SIZE, MAX_CONTROL_BODY_BYTES, MAX_META_BYTES, PacketKind } from '../../shared/protocol/constants.js';
import type { FileStart } from '../../shared/protocol/types.js';
import { AT_LIMIT } from '../support/decoder-fuzz.js';
import { goodStart, jsonWithRawString, packetHeaders, rawPacket } from '../support/packets.js';
import { TOKEN, sha256Hex, type Rng } from '../unit/helpers.js';

export interface BadPacket {
  kind: string;
  /** The defect, for a failure message. */
  what: string;
  packet: EncodedPacket;
  expected: new (...args: never[]) => FilepeerError;
}

const DOMAIN = 'fuzz.eu';
const json = (body: unknown): Buffer => Buffer.from(JSON.stringify(body));
const start = (body: Buffer, seq: unknown = 0): EncodedPacket => rawPacket(PacketKind.Start, packetHeaders(TOKEN, seq), body);
const end = (body: unknown): EncodedPacket => rawPacket(PacketKind.End, packetHeaders(TOKEN, 2), json(body));
const GOOD_END = { chunks: 1, bytes: 1, sha256: sha256Hex('x'), meta: {} };
const NAMES = ['report.csv', 'ünï cødé.txt', 'a', '.hidden', 'x'.repeat(200)];

/** Byte sequences no strict UTF-8 decoder accepts, wherever they stand. */
const NOT_UTF8: readonly number[][] = [
  [0xff], [0xfe], [0x80], [0xbf], [0xc0, 0xaf], [0xc0, 0xae], [0xc1, 0x81], [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xe2, 0x82], [0xf0, 0x9f, 0x98],
];

/** Values of the wrong JSON type for each start field (size may be null, so null is not wrong there). */
const WRONG_START: Record<keyof FileStart, readonly unknown[]> = {
  filename: [42, null, true, [], {}, ['a']],
  destination: [42, null, false, [], { path: 'a' }],
  domain: [7, null, true, [DOMAIN], {}],
  contentType: [1, null, true, [], {}],
  startedAt: [0, null, true, [], {}],
  size: ['10', 1.5, -1, true, [], {}, 2 ** 53],
  chunkSize: ['1024', 1.5, -1, null, true, [], {}, 2 ** 53],
};
const WRONG_END: Record<string, readonly unknown[]> = {
  chunks: ['1', 0.5, -1, null, true, [], {}],
  bytes: ['1', 1.5, -1, null, true, [], {}],
  sha256: [123, null, sha256Hex('x').toUpperCase(), sha256Hex('x').slice(1), `${sha256Hex('x')}0`, 'g'.repeat(64), []],
  meta: [[], null, 'x', 1, true, [{}]],
};
const WRONG_HEADER: Record<string, readonly unknown[]> = {
  [Header.Version]: ['1', true, 2, 0, -1, null, Buffer.from([1]), 1.5],
  [Header.Token]: [TOKEN.toUpperCase(), TOKEN.slice(1), `${TOKEN}a`, Buffer.from(TOKEN), 123, null, `g${TOKEN.slice(1)}`, ` ${TOKEN}`],
  [Header.Seq]: ['0', 0.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, true, null, Buffer.from([0]), { '!': 'timestamp', value: 0 }],
};

function escapingPath(rng: Rng): string {
  const name = rng.pick(['x.bin', 'etc/passwd', 'a b/c']);
  switch (rng.int(9)) {
    case 0: return `${'../'.repeat(rng.between(1, 5))}${name}`;
    case 1: return `a/${'../'.repeat(rng.between(2, 5))}${name}`;
    case 2: return `${name}/..`;
    case 3: return `/${name}`;
    case 4: return `//host/${name}`;
    case 5: return `${rng.pick(['C', 'c', 'Z'])}:${rng.pick(['/', '\\', ''])}${name}`;
    case 6: return `a\\..\\${name}`;
    case 7: return `${name.slice(0, 1)}${String.fromCharCode(rng.pick([0, 9, 10, 27, 127]))}${name.slice(1)}`;
    default: return rng.pick(['', '.', '..', './x', 'a/./b', 'a//b', 'a/', `${'x'.repeat(256)}/y`, `${'y/'.repeat(600)}z`]);
  }
}

function wildcardDomain(rng: Rng): string {
  const words = ['fuzz', 'eu', 'reports', 'x_1'].slice(0, rng.between(1, 4));
  words[rng.int(words.length)] = rng.pick(['*', '#', 'a*', '#b', '**', '*#']);
  return words.join('.');
}

/** One bad packet of a random kind. */
export function badPacket(rng: Rng): BadPacket {
  switch (rng.int(9)) {
    case 0: {
      const field = rng.pick(['filename', 'destination'] as const);
      const name = rng.pick(NAMES);
      const at = rng.int([...name].length + 1);
      const bad = rng.pick(NOT_UTF8);
      const raw = Buffer.concat([Buffer.from([...name].slice(0, at).join('')), Buffer.from(bad), Buffer.from([...name].slice(at).join(''))]);
      const body = goodStart(DOMAIN) as unknown as Record<string, unknown>;
      return { kind: 'bad UTF-8 name', what: `${field} with ${Buffer.from(bad).toString('hex')} at ${at} of ${JSON.stringify(name)}`, packet: start(jsonWithRawString(body, field, raw)), expected: MalformedPacketError };
    }
    case 1: {
      const field = rng.pick(Object.keys(WRONG_START) as Array<keyof FileStart>);
      const body: Record<string, unknown> = { ...goodStart(DOMAIN) };
      const value = rng.bool(0.15) ? undefined : rng.pick(WRONG_START[field]);
      if (value === undefined) delete body[field];
      else body[field] = value;
      return { kind: 'wrong start type', what: `${field} = ${JSON.stringify(value) ?? 'missing'}`, packet: start(json(body)), expected: MalformedPacketError };
    }
    case 2: {
      const field = rng.pick(Object.keys(WRONG_END));
      const body: Record<string, unknown> = { ...GOOD_END };
      const value = rng.bool(0.15) ? undefined : rng.pick(WRONG_END[field]!);
      if (value === undefined) delete body[field];
      else body[field] = value;
      return { kind: 'wrong end type', what: `${field} = ${JSON.stringify(value) ?? 'missing'}`, packet: end(body), expected: MalformedPacketError };
    }
    case 3: {
      const name = rng.pick(Object.keys(WRONG_HEADER));
      const value = rng.bool(0.15) ? undefined : rng.pick(WRONG_HEADER[name]!);
      const good = rng.pick([
        encodeStart(TOKEN, goodStart(DOMAIN)),
        encodeChunk(TOKEN, 1, Buffer.from('x')),
        encodeEnd(TOKEN, 2, GOOD_END),
      ]);
      const headers = packetHeaders(TOKEN, good.options.headers?.[Header.Seq], { [name]: value });
      return { kind: 'wrong header type', what: `${good.options.type} with ${name} = ${String(value)}`, packet: { content: good.content, options: { ...good.options, headers } }, expected: MalformedPacketError };
    }
    case 4: {
      const field = rng.pick(['destination', 'filename'] as const);
      const path = field === 'filename' && rng.bool(0.3) ? rng.pick(['a/b', 'dir/x.bin']) : escapingPath(rng);
      return { kind: 'escaping destination', what: `${field} ${JSON.stringify(path)}`, packet: start(json(goodStart(DOMAIN, { [field]: path }))), expected: InvalidDestinationError };
    }
    case 5: {
      const domain = wildcardDomain(rng);
      return { kind: 'wildcard domain', what: `domain ${domain}`, packet: start(json(goodStart(DOMAIN, { domain }))), expected: InvalidDomainError };
    }
    case 6: {
      // Past the limit by 1 byte to 1 KiB, in characters of 1 to 4 UTF-8 bytes (or escaped to 2 or 6).
      const ch = rng.pick(['x', 'é', '€', '😀', '\n', '"', '\u0001']);
      const meta: Record<string, string> = { p: '' };
      const target = MAX_META_BYTES + rng.between(1, 1024);
      while (Buffer.byteLength(JSON.stringify(meta)) < target) meta['p'] += ch.repeat(64);
      return { kind: 'oversized meta', what: `meta of ${Buffer.byteLength(JSON.stringify(meta))} bytes of ${JSON.stringify(ch)}`, packet: end({ ...GOOD_END, meta }), expected: OversizeError };
    }
    case 7: {
      const over = MAX_CONTROL_BODY_BYTES + rng.between(1, 4096);
      const pad = 'x'.repeat(over);
      const packet = rng.bool() ? start(json({ ...goodStart(DOMAIN), contentType: pad })) : end({ ...GOOD_END, pad });
      return { kind: 'oversized control body', what: `${packet.options.type} body over ${over} bytes`, packet, expected: OversizeError };
    }
    default: {
      if (rng.bool()) {
        const chunkSize = rng.pick([0, MAX_CHUNK_SIZE + 1, MAX_CHUNK_SIZE * 2, 2 ** 31]);
        return { kind: 'oversize chunk', what: `chunkSize ${chunkSize}`, packet: start(json(goodStart(DOMAIN, { chunkSize }))), expected: OversizeError };
      }
      const over = rng.between(1, AT_LIMIT.length - MAX_CHUNK_SIZE);
      return { kind: 'oversize chunk', what: `chunk of MAX + ${over} bytes`, packet: encodeChunk(TOKEN, rng.between(1, 1000), AT_LIMIT.subarray(0, MAX_CHUNK_SIZE + over)), expected: OversizeError };
    }
  }
}
