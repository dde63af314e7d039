import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FilepeerError,
  InvalidDestinationError,
  InvalidDomainError,
  MalformedPacketError,
  OversizeError,
} from '../../shared/errors.js';
import { decodePacket, encodeChunk, encodeEnd, encodeStart, messageIdOf } from '../../shared/protocol/codec.js';
import {
  APP_ID,
  CHUNK_CONTENT_TYPE,
  Header,
  JSON_CONTENT_TYPE,
  MAX_CHUNK_SIZE,
  MAX_CONTROL_BODY_BYTES,
  MAX_META_BYTES,
  PROTOCOL_VERSION,
  PacketKind,
} from '../../shared/protocol/constants.js';
import type { FileEnd, FileStart, Packet } from '../../shared/protocol/types.js';
import { EMPTY_SHA256, TOKEN, asMessage, headers, rawMessage, sha256Hex, validEnd, validStart, type WireMessage } from './helpers.js';

type ErrorClass = new (...args: never[]) => FilepeerError;

/** decodePacket must throw exactly this class (not a sibling, not a platform error). */
function assertRejects(message: WireMessage, expected: ErrorClass, why?: RegExp): void {
  assert.throws(
    () => decodePacket(message),
    (err: unknown) => {
      assert.ok(err instanceof FilepeerError, `expected a FilepeerError, got ${String(err)}`);
      assert.equal(err.constructor, expected, `expected ${expected.name}, got ${err.constructor.name}: ${err.message}`);
      if (why) assert.match(err.message, why);
      return true;
    },
  );
}

function startMessage(body: unknown, seq: unknown = 0, extraHeaders: Record<string, unknown> = {}): WireMessage {
  const content = typeof body === 'string' || Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
  return rawMessage(PacketKind.Start, headers(seq, extraHeaders), content);
}

function endMessage(body: unknown, seq: unknown = 1, extraHeaders: Record<string, unknown> = {}): WireMessage {
  const content = typeof body === 'string' || Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
  return rawMessage(PacketKind.End, headers(seq, extraHeaders), content);
}

function chunkMessage(data: Buffer, seq: unknown = 1, extraHeaders: Record<string, unknown> = {}): WireMessage {
  return rawMessage(PacketKind.Chunk, headers(seq, extraHeaders), data);
}

const DATA = Buffer.from('0123456789');
const END: FileEnd = validEnd(DATA, 3);

describe('codec: encoding', () => {
  it('messageIdOf joins token and sequence number with a colon', () => {
    assert.equal(messageIdOf(TOKEN, 0), `${TOKEN}:0`);
    assert.equal(messageIdOf(TOKEN, 12345), `${TOKEN}:12345`);
  });

  it('encodeStart publishes a persistent, mandatory JSON message typed file.start with sequence number 0', () => {
    const start = validStart();
    const { content, options } = encodeStart(TOKEN, start);
    assert.equal(options.type, 'file.start');
    assert.equal(options.messageId, `${TOKEN}:0`);
    assert.equal(options.appId, APP_ID);
    assert.equal(options.appId, 'filepeer');
    assert.equal(options.contentType, JSON_CONTENT_TYPE);
    assert.equal(options.persistent, true);
    assert.equal(options.mandatory, true);
    assert.deepEqual(options.headers, {
      'x-filepeer-version': 1,
      'x-filepeer-token': TOKEN,
      'x-filepeer-seq': 0,
    });
    assert.deepEqual(JSON.parse(content.toString('utf8')), start);
  });

  it('encodeChunk sends the caller\'s bytes as the body itself, typed file.chunk with messageId <token>:<seq>', () => {
    const data = Buffer.from([0, 1, 2, 255]);
    const { content, options } = encodeChunk(TOKEN, 7, data);
    assert.equal(content, data, 'the body is the same Buffer, not a copy');
    assert.equal(options.type, 'file.chunk');
    assert.equal(options.messageId, `${TOKEN}:7`);
    assert.equal(options.contentType, CHUNK_CONTENT_TYPE);
    assert.equal(options.contentType, 'application/octet-stream');
    assert.equal(options.persistent, true);
    assert.equal(options.mandatory, true);
    assert.deepEqual(options.headers, { [Header.Version]: PROTOCOL_VERSION, [Header.Token]: TOKEN, [Header.Seq]: 7 });
  });

  it('encodeEnd publishes a JSON body typed file.end with the given sequence number', () => {
    const { content, options } = encodeEnd(TOKEN, 4, END);
    assert.equal(options.type, 'file.end');
    assert.equal(options.messageId, `${TOKEN}:4`);
    assert.equal(options.contentType, 'application/json');
    assert.equal(options.headers?.[Header.Seq], 4);
    assert.deepEqual(JSON.parse(content.toString('utf8')), END);
  });
});

describe('codec: round trip', () => {
  it('decode(encodeStart) gives back the same FileStart, token and sequence number 0', () => {
    const start = validStart();
    const packet = decodePacket(asMessage(encodeStart(TOKEN, start)));
    assert.deepEqual(packet, { kind: PacketKind.Start, token: TOKEN, seq: 0, start });
  });

  it('decode(encodeStart) keeps a null size (a stream of unknown length) and non-ASCII names', () => {
    const start = validStart({ size: null, filename: 'Grüße 📄.txt', destination: 'in/Grüße 📄.txt' });
    const packet = decodePacket(asMessage(encodeStart(TOKEN, start)));
    assert.equal(packet.kind, PacketKind.Start);
    assert.deepEqual((packet as Extract<Packet, { kind: 'file.start' }>).start, start);
  });

  it('decode(encodeChunk) gives back the same bytes, token and sequence number', () => {
    const data = Buffer.from('chunk bytes \u0000\u00ff', 'latin1');
    const packet = decodePacket(asMessage(encodeChunk(TOKEN, 3, data)));
    assert.equal(packet.kind, PacketKind.Chunk);
    assert.equal(packet.token, TOKEN);
    assert.equal(packet.seq, 3);
    assert.deepEqual((packet as Extract<Packet, { kind: 'file.chunk' }>).data, data);
  });

  it('decode(encodeEnd) gives back the same FileEnd with its meta object', () => {
    const end: FileEnd = { ...END, meta: { nested: { list: [1, 'two', null, true] }, n: 1.5 } };
    const packet = decodePacket(asMessage(encodeEnd(TOKEN, 4, end)));
    assert.deepEqual(packet, { kind: PacketKind.End, token: TOKEN, seq: 4, end });
  });

  it('decode accepts the end of an empty file: sequence number 1, zero chunks, the empty digest', () => {
    const end: FileEnd = { chunks: 0, bytes: 0, sha256: EMPTY_SHA256, meta: {} };
    const packet = decodePacket(asMessage(encodeEnd(TOKEN, 1, end)));
    assert.deepEqual(packet, { kind: PacketKind.End, token: TOKEN, seq: 1, end });
  });

  it('decode accepts a chunk of exactly the protocol maximum and an empty chunk (the reassembler judges sizes)', () => {
    const big = Buffer.alloc(MAX_CHUNK_SIZE, 7);
    const packet = decodePacket(chunkMessage(big, 1));
    assert.equal(packet.kind, PacketKind.Chunk);
    assert.equal((packet as Extract<Packet, { kind: 'file.chunk' }>).data.length, MAX_CHUNK_SIZE);
    const empty = decodePacket(chunkMessage(Buffer.alloc(0), 2));
    assert.equal((empty as Extract<Packet, { kind: 'file.chunk' }>).data.length, 0);
  });

  it('decode accepts chunkSize at both ends of its range and a meta of exactly MAX_META_BYTES', () => {
    for (const chunkSize of [1, MAX_CHUNK_SIZE]) {
      const packet = decodePacket(startMessage(validStart({ chunkSize })));
      assert.equal((packet as Extract<Packet, { kind: 'file.start' }>).start.chunkSize, chunkSize);
    }
    const overhead = Buffer.byteLength(JSON.stringify({ p: '' }));
    const meta = { p: 'x'.repeat(MAX_META_BYTES - overhead) };
    assert.equal(Buffer.byteLength(JSON.stringify(meta)), MAX_META_BYTES);
    const packet = decodePacket(endMessage({ ...END, meta }, 4));
    assert.deepEqual((packet as Extract<Packet, { kind: 'file.end' }>).end.meta, meta);
  });

  it('decode drops fields it does not know from start and end bodies', () => {
    const start = decodePacket(startMessage({ ...validStart(), extra: 'ignored', __proto__x: 1 }));
    assert.deepEqual((start as Extract<Packet, { kind: 'file.start' }>).start, validStart());
    const end = decodePacket(endMessage({ ...END, future: [1, 2] }, 4));
    assert.deepEqual((end as Extract<Packet, { kind: 'file.end' }>).end, END);
  });

  it('decode accepts a control body of exactly MAX_CONTROL_BODY_BYTES', () => {
    const base = JSON.stringify({ ...validStart(), pad: '' });
    const body = JSON.stringify({ ...validStart(), pad: 'x'.repeat(MAX_CONTROL_BODY_BYTES - Buffer.byteLength(base)) });
    assert.equal(Buffer.byteLength(body), MAX_CONTROL_BODY_BYTES);
    assert.equal(decodePacket(startMessage(body)).kind, PacketKind.Start);
  });

  it('decode ignores messageId, appId and contentType (only type and the x-filepeer headers count)', () => {
    const message = asMessage(encodeChunk(TOKEN, 2, DATA));
    message.properties.messageId = 'something else';
    message.properties.appId = undefined;
    message.properties.contentType = 'text/plain';
    assert.equal(decodePacket(message).seq, 2);
  });
});

describe('codec: headers are checked before the body', () => {
  it('decode rejects a packet without headers with MalformedPacketError', () => {
    assertRejects(rawMessage(PacketKind.Chunk, undefined, DATA), MalformedPacketError, /version/);
  });

  it('decode rejects a missing protocol version with MalformedPacketError', () => {
    assertRejects(chunkMessage(DATA, 1, { [Header.Version]: undefined }), MalformedPacketError, /version/);
  });

  it('decode rejects protocol versions other than the number 1 with MalformedPacketError', () => {
    for (const version of [0, 2, '1', 1.5, true, null, Buffer.from('1')]) {
      assertRejects(chunkMessage(DATA, 1, { [Header.Version]: version }), MalformedPacketError, /version/);
    }
  });

  it('decode rejects a missing or malformed token with MalformedPacketError', () => {
    const bad: unknown[] = [
      undefined,
      TOKEN.toUpperCase(),
      TOKEN.slice(1),
      `${TOKEN}0`,
      `${TOKEN.slice(0, 31)}g`,
      ` ${TOKEN.slice(1)}`,
      12345,
      Buffer.from(TOKEN),
      null,
    ];
    for (const token of bad) {
      assertRejects(chunkMessage(DATA, 1, { [Header.Token]: token }), MalformedPacketError, /token/);
    }
  });

  it('decode rejects a negative, fractional, non-numeric, unsafe or missing sequence number with MalformedPacketError', () => {
    for (const seq of [-1, 1.5, '1', Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, undefined, null, true]) {
      assertRejects(rawMessage(PacketKind.Chunk, headers(seq), DATA), MalformedPacketError, /sequence number/);
    }
  });

  it('decode rejects a start packet whose sequence number is not 0 with MalformedPacketError', () => {
    assertRejects(startMessage(validStart(), 1), MalformedPacketError, /sequence number 0/);
  });

  it('decode rejects a chunk with sequence number 0 with MalformedPacketError', () => {
    assertRejects(chunkMessage(DATA, 0), MalformedPacketError, /start at 1/);
  });

  it('decode rejects an end packet with sequence number 0 with MalformedPacketError', () => {
    assertRejects(endMessage({ ...END, chunks: 0 }, 0), MalformedPacketError);
  });

  it('decode rejects an unknown or missing packet type with MalformedPacketError', () => {
    for (const type of ['file.middle', 'FILE.CHUNK', 'file.chunk ', '', undefined, 'start']) {
      assertRejects(rawMessage(type, headers(1), DATA), MalformedPacketError, /unknown packet type/);
    }
  });

  it('decode rejects a body that is not a Buffer with MalformedPacketError', () => {
    for (const content of ['text', new Uint8Array(3), undefined]) {
      assertRejects(rawMessage(PacketKind.Chunk, headers(1), content), MalformedPacketError, /bytes/);
    }
  });
});

describe('codec: start and end bodies', () => {
  it('decode rejects a control body that is not JSON with MalformedPacketError, keeping the parse error as cause', () => {
    assert.throws(
      () => decodePacket(startMessage('{"filename": ')),
      (err: unknown) => err instanceof MalformedPacketError && err.cause instanceof SyntaxError,
    );
    assertRejects(endMessage('not json', 4), MalformedPacketError, /UTF-8 JSON/);
    assertRejects(startMessage(''), MalformedPacketError, /UTF-8 JSON/);
  });

  it('decode rejects a control body that is not valid UTF-8 with MalformedPacketError, even inside a JSON string', () => {
    const json = Buffer.from(JSON.stringify(validStart({ filename: 'AB' })));
    const at = json.indexOf('AB');
    json[at] = 0xc3; // a lead byte followed by 'B' (not a continuation byte)
    assertRejects(startMessage(json), MalformedPacketError, /UTF-8 JSON/);
    assertRejects(endMessage(Buffer.from([0x7b, 0xff, 0x7d]), 4), MalformedPacketError, /UTF-8 JSON/);
  });

  it('decode rejects JSON bodies that are not objects (array, string, number, null, boolean) with MalformedPacketError', () => {
    for (const body of ['[]', '"text"', '42', 'null', 'true', `[${JSON.stringify(validStart())}]`]) {
      assertRejects(startMessage(body), MalformedPacketError, /not a JSON object/);
      assertRejects(endMessage(body, 4), MalformedPacketError, /not a JSON object/);
    }
  });

  it('decode rejects start fields of the wrong type or missing with MalformedPacketError', () => {
    const cases: Array<[keyof FileStart, unknown]> = [
      ['filename', 42],
      ['filename', undefined],
      ['destination', null],
      ['destination', ['a']],
      ['domain', 5],
      ['domain', undefined],
      ['size', '10'],
      ['size', -1],
      ['size', 1.5],
      ['size', undefined],
      ['size', 2 ** 53],
      ['contentType', undefined],
      ['contentType', {}],
      ['chunkSize', '4'],
      ['chunkSize', 4.5],
      ['chunkSize', -4],
      ['chunkSize', null],
      ['startedAt', undefined],
      ['startedAt', 1714564800000],
    ];
    for (const [name, value] of cases) {
      const body: Record<string, unknown> = { ...validStart() };
      if (value === undefined) delete body[name];
      else body[name] = value;
      assertRejects(startMessage(body), MalformedPacketError, new RegExp(`field ${name}`));
    }
  });

  it('decode rejects end fields of the wrong type or missing with MalformedPacketError', () => {
    const cases: Array<[keyof FileEnd, unknown]> = [
      ['chunks', '3'],
      ['chunks', undefined],
      ['chunks', 3.5],
      ['bytes', -1],
      ['bytes', '10'],
      ['bytes', undefined],
      ['sha256', undefined],
      ['sha256', 42],
      ['meta', undefined],
      ['meta', null],
      ['meta', [1, 2]],
      ['meta', 'text'],
      ['meta', 7],
    ];
    for (const [name, value] of cases) {
      const body: Record<string, unknown> = { ...END };
      if (value === undefined) delete body[name];
      else body[name] = value;
      assertRejects(endMessage(body, 4), MalformedPacketError);
    }
  });

  it('decode rejects an end packet whose chunk count is not its sequence number minus 1 with MalformedPacketError', () => {
    assertRejects(endMessage({ ...END, chunks: 3 }, 5), MalformedPacketError, /claims 3 chunks/);
    assertRejects(endMessage({ ...END, chunks: 4 }, 4), MalformedPacketError, /claims 4 chunks/);
    assertRejects(endMessage({ ...END, chunks: 1 }, 1), MalformedPacketError);
  });

  it('decode rejects a sha256 that is not 64 lower-case hex characters with MalformedPacketError', () => {
    const digest = sha256Hex(DATA);
    for (const sha256 of [digest.toUpperCase(), digest.slice(1), `${digest}0`, `${digest.slice(0, 63)}g`, '', Buffer.from(digest, 'hex').toString('base64')]) {
      assertRejects(endMessage({ ...END, sha256 }, 4), MalformedPacketError, /sha256/);
    }
  });
});

describe('codec: limits', () => {
  it('decode rejects a chunk over the protocol maximum with OversizeError', () => {
    assertRejects(chunkMessage(Buffer.alloc(MAX_CHUNK_SIZE + 1), 1), OversizeError, /exceeds the protocol maximum/);
  });

  it('decode rejects a start or end body over MAX_CONTROL_BODY_BYTES with OversizeError, before parsing it', () => {
    const big = Buffer.alloc(MAX_CONTROL_BODY_BYTES + 1, 0x20); // whitespace: would parse to nothing
    assertRejects(startMessage(big), OversizeError, /exceeds 65536/);
    assertRejects(endMessage(big, 4), OversizeError);
    const valid = JSON.stringify({ ...validStart(), pad: 'x'.repeat(MAX_CONTROL_BODY_BYTES) });
    assertRejects(startMessage(valid), OversizeError);
  });

  it('decode rejects a chunkSize of 0 or over MAX_CHUNK_SIZE with OversizeError', () => {
    assertRejects(startMessage(validStart({ chunkSize: 0 })), OversizeError, /chunk size 0/);
    assertRejects(startMessage(validStart({ chunkSize: MAX_CHUNK_SIZE + 1 })), OversizeError, /outside/);
  });

  it('decode rejects a meta object over MAX_META_BYTES with OversizeError', () => {
    const overhead = Buffer.byteLength(JSON.stringify({ p: '' }));
    const meta = { p: 'x'.repeat(MAX_META_BYTES - overhead + 1) };
    assertRejects(endMessage({ ...END, meta }, 4), OversizeError, /meta of 16385 bytes/);
  });

  it('decode measures meta in UTF-8 bytes, not characters', () => {
    // 'é' is 2 bytes: this meta is under the limit in characters but over it in bytes.
    const meta = { p: 'é'.repeat(MAX_META_BYTES / 2) };
    assert.ok(JSON.stringify(meta).length <= MAX_META_BYTES, "under the limit in UTF-16 units");
    assertRejects(endMessage({ ...END, meta }, 4), OversizeError);
  });
});

describe('codec: destinations and domains in a start packet', () => {
  const badDestinations = ['../x', '/etc/passwd', 'a/../../b', 'a\u0000b', 'a\\b', 'C:x', '\ud800', 'a/\udc00b', '', 'a//b', './a'];

  for (const destination of badDestinations) {
    it(`decode rejects the destination ${JSON.stringify(destination)} with InvalidDestinationError`, () => {
      assertRejects(startMessage(validStart({ destination })), InvalidDestinationError);
    });
  }

  it('decode rejects a filename with a directory part or a bad segment with InvalidDestinationError', () => {
    for (const filename of ['dir/report.csv', '..', '.', 'a\\b', '']) {
      assertRejects(startMessage(validStart({ filename })), InvalidDestinationError);
    }
  });

  for (const domain of ['a.*', '#', 'a..b', '', '*', 'a.#', 'a b', 'nanite.filepeer.']) {
    it(`decode rejects the domain ${JSON.stringify(domain)} in a start packet with InvalidDomainError`, () => {
      assertRejects(startMessage(validStart({ domain })), InvalidDomainError);
    });
  }
});
