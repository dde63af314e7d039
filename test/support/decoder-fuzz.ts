/**
 * The decoder fuzzer: seeded generators of valid packets, random mutations of them, and random
 * messages, each run through decodePacket. Shared by the unit fuzz test and the faults suite, which
 * run it with different seeds; the loops assert as they go and return what they saw.
 */
import assert from 'node:assert/strict';
import { FilepeerError } from '../../shared/errors.js';
import { decodePacket, encodeChunk, encodeEnd, encodeStart } from '../../shared/protocol/codec.js';
import { Header, MAX_CHUNK_SIZE, MAX_META_BYTES, MIN_CHUNK_SIZE, PacketKind } from '../../shared/protocol/constants.js';
import type { Meta, Packet } from '../../shared/protocol/types.js';
import { assertDestination, assertDomain, assertFilename, isToken } from '../../shared/protocol/validate.js';
import { Rng, TOKEN, asMessage, headers, rawMessage, sha256Hex, validStart, type WireMessage } from '../unit/helpers.js';

export const PROTOCOL_HEADERS = [Header.Version, Header.Token, Header.Seq] as const;
export const KINDS = [PacketKind.Start, PacketKind.Chunk, PacketKind.End] as const;
/** One shared buffer for bodies at and just past the chunk limit (decodePacket never writes to a body). */
export const AT_LIMIT = Buffer.alloc(MAX_CHUNK_SIZE + 1, 0x5a);

/** A value amqplib's field-table decoder can produce (it never yields BigInt or undefined). */
export function randomHeaderValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 1 ? 12 : 14)) {
    case 0: return rng.between(-128, 127);
    case 1: return rng.between(-2_000_000_000, 2_000_000_000);
    case 2: return rng.pick([0, 1, 2, -1, 2 ** 31, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER]);
    case 3: return rng.next() * 1000 - 500;
    case 4: return rng.pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0]);
    case 5: return rng.bytes(rng.int(40)).toString('latin1');
    case 6: return rng.pick([TOKEN, TOKEN.toUpperCase(), '1', '0', '', `${TOKEN}:0`, 'file.start']);
    case 7: return rng.bool();
    case 8: return null;
    case 9: return rng.bytes(rng.int(40));
    case 10: return { '!': 'timestamp', value: rng.int(2 ** 31) };
    case 11: return { '!': 'decimal', value: { places: rng.int(5), digits: rng.int(100000) } };
    case 12: return Array.from({ length: rng.int(4) }, () => randomHeaderValue(rng, depth + 1));
    default: {
      const table: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) table[rng.pick(['a', 'x-filepeer-seq', 'value', '!'])] = randomHeaderValue(rng, depth + 1);
      return table;
    }
  }
}

/** A JSON value of bounded depth (deep nesting is its own test). */
export function randomJson(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 6 : 8)) {
    case 0: return null;
    case 1: return rng.bool();
    case 2: return rng.pick([0, 1, -1, 4, 16384, MAX_CHUNK_SIZE, MAX_CHUNK_SIZE + 1, 2 ** 53, 1.5, -0.5, 1e308]);
    case 3: return rng.int(1 << 20);
    case 4: return rng.pick(['', 'a', '..', '/', 'a/b', 'C:x', '\ud800', 'a\u0000b', '#', 'a.*', 'x'.repeat(300), sha256Hex('x'), TOKEN]);
    case 5: return rng.bytes(rng.int(20)).toString('latin1');
    case 6: return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) obj[rng.pick(['a', 'meta', 'chunks', 'size', '__proto__', 'constructor', ''])] = randomJson(rng, depth + 1);
      return obj;
    }
  }
}

/** A valid encoded packet of a random kind and shape. */
export function validMessage(rng: Rng): WireMessage {
  const kind = rng.pick(KINDS);
  if (kind === PacketKind.Start) {
    return asMessage(
      encodeStart(TOKEN, validStart({
        size: rng.bool(0.2) ? null : rng.int(1 << 30),
        chunkSize: rng.between(MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
        destination: rng.pick(['a', 'dir/sub/file.bin', 'ünï/cødé.txt', 'x'.repeat(255)]),
      })),
    );
  }
  if (kind === PacketKind.Chunk) return asMessage(encodeChunk(TOKEN, rng.between(1, 100_000), rng.bytes(rng.int(64))));
  const chunks = rng.int(100_000);
  const meta: Meta = rng.bool() ? {} : { note: 'x'.repeat(rng.int(200)), n: rng.int(10), list: [1, null, 'two'] };
  return asMessage(encodeEnd(TOKEN, chunks + 1, { chunks, bytes: rng.int(2 ** 40), sha256: sha256Hex(rng.bytes(8)), meta }));
}

/** The body as a JSON object to mutate, or undefined when it is not one. */
export function jsonObjectOf(content: unknown): Record<string, unknown> | undefined {
  if (!Buffer.isBuffer(content)) return undefined;
  try {
    const body: unknown = JSON.parse(content.toString('utf8'));
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** One random mutation, in place; returns a short description for the failure message. */
export function mutate(rng: Rng, message: WireMessage): string {
  const props = message.properties;
  const content = message.content;
  const hdrs = (props.headers ?? {}) as Record<string, unknown>;
  switch (rng.int(14)) {
    case 0: {
      if (!Buffer.isBuffer(content) || content.length === 0) return 'noop';
      const copy = Buffer.from(content);
      for (let n = rng.between(1, 4); n > 0; n--) copy[rng.int(copy.length)] = rng.int(256);
      message.content = copy;
      return 'flip bytes';
    }
    case 1: {
      if (!Buffer.isBuffer(content)) return 'noop';
      message.content = content.subarray(0, rng.int(content.length + 1));
      return 'truncate';
    }
    case 2: {
      if (!Buffer.isBuffer(content)) return 'noop';
      const at = rng.int(content.length + 1);
      message.content = Buffer.concat([content.subarray(0, at), rng.bytes(rng.between(1, 8)), content.subarray(at)]);
      return 'insert bytes';
    }
    case 3:
      message.content = rng.bytes(rng.int(200));
      return 'random body';
    case 4: {
      // Structured: change, add or delete one field of a JSON body, keeping it valid JSON.
      const obj = jsonObjectOf(content);
      if (!obj) return 'noop';
      const keys = [...Object.keys(obj), 'extra'];
      const key = rng.pick(keys);
      if (rng.bool(0.25)) delete obj[key];
      else obj[key] = randomJson(rng);
      message.content = Buffer.from(JSON.stringify(obj));
      return `json field ${key}`;
    }
    case 5:
      message.content = Buffer.from(JSON.stringify(randomJson(rng)) ?? '');
      return 'random json body';
    case 6: {
      const name = rng.pick(PROTOCOL_HEADERS);
      const next = { ...hdrs };
      delete next[name];
      props.headers = next;
      return `drop header ${name}`;
    }
    case 7: {
      const name = rng.pick(PROTOCOL_HEADERS);
      props.headers = { ...hdrs, [name]: randomHeaderValue(rng) };
      return `replace header ${name}`;
    }
    case 8:
      props.headers = rng.pick([undefined, null, {}, 'x-filepeer-version', 1, [1, TOKEN, 0]]) as never;
      return 'replace headers';
    case 9:
      props.type = rng.pick([...KINDS, ...KINDS, undefined, '', 'file.', 'file.chunk\u0000', rng.bytes(6).toString('latin1')]);
      return `type ${JSON.stringify(props.type)}`;
    case 10:
      props.headers = { ...hdrs, [Header.Seq]: rng.pick([0, 1, 2, rng.int(200_000), -1]) };
      return 'plausible seq';
    case 11:
      message.content = rng.pick(['text', new Uint8Array(4), undefined, null]) as never;
      return 'non-Buffer body';
    case 12:
      props.headers = { ...hdrs, [rng.bytes(4).toString('hex')]: randomHeaderValue(rng) };
      return 'extra header';
    default: {
      // Values at and just past the limits.
      const which = rng.int(4);
      if (which === 0) {
        message.content = AT_LIMIT.subarray(0, rng.pick([MAX_CHUNK_SIZE, MAX_CHUNK_SIZE + 1]));
        return 'body at the chunk limit';
      }
      const obj = jsonObjectOf(content);
      if (!obj) return 'noop';
      let what: string;
      if (which === 1) {
        obj['chunkSize'] = rng.pick([0, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE, MAX_CHUNK_SIZE + 1]);
        what = 'chunkSize at the limits';
      } else if (which === 2) {
        obj['meta'] = { p: 'x'.repeat(MAX_META_BYTES - 8 + rng.between(-2, 2)) };
        what = 'meta at the limit';
      } else {
        const name = rng.pick(['destination', 'filename', 'domain']);
        obj[name] = rng.pick(['ok', 'a/b', 'a.b', '..', '/abs', 'a\\b', 'C:x', '\ud800', 'a\u0000b', 'a..b', 'a.*', '#', '', 'x'.repeat(256)]);
        what = `${name} ${JSON.stringify(obj[name])}`;
      }
      message.content = Buffer.from(JSON.stringify(obj));
      return what;
    }
  }
}

/** What any packet decodePacket returns must satisfy, whatever went in. */
export function assertInvariants(packet: Packet, where: string): void {
  assert.ok(isToken(packet.token), `${where}: token`);
  assert.ok(Number.isSafeInteger(packet.seq) && packet.seq >= 0, `${where}: seq`);
  switch (packet.kind) {
    case PacketKind.Start:
      // === rather than Object.is: a double -0 header (not something amqplib sends) decodes as -0.
      assert.ok(packet.seq === 0, `${where}: start seq ${packet.seq}`);
      assert.ok(packet.start.chunkSize >= MIN_CHUNK_SIZE && packet.start.chunkSize <= MAX_CHUNK_SIZE, where);
      assertDestination(packet.start.destination);
      assertFilename(packet.start.filename);
      assertDomain(packet.start.domain);
      break;
    case PacketKind.Chunk:
      assert.ok(packet.seq >= 1, where);
      assert.ok(Buffer.isBuffer(packet.data) && packet.data.length <= MAX_CHUNK_SIZE, where);
      break;
    case PacketKind.End:
      assert.equal(packet.end.chunks, packet.seq - 1, where);
      assert.match(packet.end.sha256, /^[0-9a-f]{64}$/, where);
      assert.ok(typeof packet.end.meta === 'object' && packet.end.meta !== null && !Array.isArray(packet.end.meta), where);
      break;
    default:
      assert.fail(`${where}: unknown kind ${JSON.stringify((packet as { kind: unknown }).kind)}`);
  }
}

/** What a fuzz loop saw: every case either refused with a FilepeerError or decoded to a well-formed packet. */
export interface FuzzTally {
  tried: number;
  /** Refused with a FilepeerError (any other throw fails the loop at once). */
  refused: number;
  /** Decoded to a packet that satisfies every invariant (a mutation can leave a packet valid). */
  decoded: number;
  /** Cases per outcome: the error class name, or 'decoded'. */
  outcomes: Map<string, number>;
}

export function newTally(): FuzzTally {
  return { tried: 0, refused: 0, decoded: 0, outcomes: new Map() };
}

/** Decode one case, assert it is refused with a FilepeerError or decodes well-formed, and count it. */
function judge(tally: FuzzTally, message: WireMessage, where: string): void {
  tally.tried++;
  let packet: Packet;
  try {
    packet = decodePacket(message);
  } catch (err) {
    assert.ok(err instanceof FilepeerError, `${where}: threw ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)}`);
    tally.refused++;
    tally.outcomes.set(err.constructor.name, (tally.outcomes.get(err.constructor.name) ?? 0) + 1);
    return;
  }
  assertInvariants(packet, where);
  tally.decoded++;
  tally.outcomes.set('decoded', (tally.outcomes.get('decoded') ?? 0) + 1);
}

/**
 * `iterations` valid packets, each mutated 1–3 times, decoded. Counts go into `tally` as the loop goes,
 * so a caller that passes its own keeps what was done when an assertion stops the loop.
 */
export function fuzzMutated(seed: number, iterations: number, tally: FuzzTally = newTally()): FuzzTally {
  const rng = new Rng(seed);
  for (let i = 0; i < iterations; i++) {
    const message = validMessage(rng);
    const steps: string[] = [];
    for (let n = rng.between(1, 3); n > 0; n--) steps.push(mutate(rng, message));
    judge(tally, message, `seed ${seed} (FILEPEER_TEST_SEED=${seed}), iteration ${i}, mutations [${steps.join(', ')}]`);
  }
  return tally;
}

/** `iterations` messages of random bytes under random (or protocol) headers and random types, decoded (see fuzzMutated). */
export function fuzzRandom(seed: number, iterations: number, tally: FuzzTally = newTally()): FuzzTally {
  const rng = new Rng(seed ^ 0x5eed);
  for (let i = 0; i < iterations; i++) {
    const hdrs: Record<string, unknown> = {};
    for (const name of PROTOCOL_HEADERS) if (rng.bool(0.8)) hdrs[name] = rng.bool(0.5) ? headers(rng.int(3))[name] : randomHeaderValue(rng);
    const message = rawMessage(rng.pick([...KINDS, 'x', undefined]), rng.bool(0.95) ? hdrs : undefined, rng.bytes(rng.int(300)));
    judge(tally, message, `seed ${seed} (FILEPEER_TEST_SEED=${seed}), iteration ${i}`);
  }
  return tally;
}
