import type { Message, Options } from 'amqplib';
import { MalformedPacketError, OversizeError } from '../errors.js';
import {
  APP_ID,
  CHUNK_CONTENT_TYPE,
  Header,
  JSON_CONTENT_TYPE,
  MAX_CHUNK_SIZE,
  MAX_CONTROL_BODY_BYTES,
  MAX_META_BYTES,
  MIN_CHUNK_SIZE,
  PROTOCOL_VERSION,
  PacketKind,
} from './constants.js';
import type { FileEnd, FileStart, Meta, Packet } from './types.js';
import { describe } from './describe.js';
import { assertDestination, assertDomain, assertFilename, assertToken } from './validate.js';

/** What a packet becomes on the wire: the body and the AMQP publish properties. */
export interface EncodedPacket {
  content: Buffer;
  options: Options.Publish;
}

/** `messageId` of a packet: `<token>:<seq>`, so a duplicate is recognisable without opening it. */
export function messageIdOf(token: string, seq: number): string {
  return `${token}:${seq}`;
}

function publishOptions(kind: Packet['kind'], token: string, seq: number, contentType: string): Options.Publish {
  return {
    type: kind,
    messageId: messageIdOf(token, seq),
    appId: APP_ID,
    contentType,
    persistent: true,
    mandatory: true,
    headers: { [Header.Version]: PROTOCOL_VERSION, [Header.Token]: token, [Header.Seq]: seq },
  };
}

export function encodeStart(token: string, start: FileStart): EncodedPacket {
  const content = Buffer.from(JSON.stringify(start));
  // contentType is the one unbounded field: a start every receiver refuses unread must fail the
  // sender here, not be confirmed by the broker and reported as broadcast.
  if (content.length > MAX_CONTROL_BODY_BYTES) {
    throw new OversizeError(`start packet body of ${content.length} bytes exceeds ${MAX_CONTROL_BODY_BYTES}`);
  }
  return { content, options: publishOptions(PacketKind.Start, token, 0, JSON_CONTENT_TYPE) };
}

/** Chunk bodies are the raw bytes: no copy, no base64, no JSON. */
export function encodeChunk(token: string, seq: number, data: Buffer): EncodedPacket {
  return { content: data, options: publishOptions(PacketKind.Chunk, token, seq, CHUNK_CONTENT_TYPE) };
}

export function encodeEnd(token: string, seq: number, end: FileEnd): EncodedPacket {
  return {
    content: Buffer.from(JSON.stringify(end)),
    options: publishOptions(PacketKind.End, token, seq, JSON_CONTENT_TYPE),
  };
}

/**
 * Decode one AMQP message into a packet, checking everything a receiver relies on.
 * Throws MalformedPacketError (or OversizeError / InvalidDestinationError / InvalidDomainError)
 * and never anything else, whatever the bytes.
 */
export function decodePacket(message: Pick<Message, 'content' | 'properties'>): Packet {
  const { properties, content } = message;
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  const version = headers[Header.Version];
  if (version !== PROTOCOL_VERSION) {
    throw new MalformedPacketError(`unsupported protocol version ${describe(version)}`);
  }
  const token = assertToken(headers[Header.Token]);
  const seq = headers[Header.Seq];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new MalformedPacketError(`sequence number ${describe(seq)} is not a non-negative integer`);
  }
  if (!Buffer.isBuffer(content)) throw new MalformedPacketError('body is not bytes');
  switch (properties.type) {
    case PacketKind.Start:
      if (seq !== 0) throw new MalformedPacketError(`a start packet has sequence number 0, not ${seq}`);
      return { kind: PacketKind.Start, token, seq, start: parseStart(parseJsonBody(content, 'start')) };
    case PacketKind.Chunk:
      if (seq < 1) throw new MalformedPacketError('chunk sequence numbers start at 1');
      if (content.length > MAX_CHUNK_SIZE) {
        throw new OversizeError(`chunk of ${content.length} bytes exceeds the protocol maximum of ${MAX_CHUNK_SIZE}`);
      }
      return { kind: PacketKind.Chunk, token, seq, data: content };
    case PacketKind.End:
      if (seq < 1) throw new MalformedPacketError('an end packet has a sequence number of at least 1');
      return { kind: PacketKind.End, token, seq, end: parseEnd(parseJsonBody(content, 'end'), seq) };
    default:
      throw new MalformedPacketError(`unknown packet type ${describe(properties.type)}`);
  }
}

function parseJsonBody(content: Buffer, what: string): Record<string, unknown> {
  if (content.length > MAX_CONTROL_BODY_BYTES) {
    throw new OversizeError(`${what} packet body of ${content.length} bytes exceeds ${MAX_CONTROL_BODY_BYTES}`);
  }
  let value: unknown;
  try {
    // fatal: a body that is not valid UTF-8 is refused rather than silently repaired.
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(content));
  } catch (cause) {
    throw new MalformedPacketError(`${what} packet body is not UTF-8 JSON`, { cause });
  }
  if (!isPlainObject(value)) throw new MalformedPacketError(`${what} packet body is not a JSON object`);
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field<T>(body: Record<string, unknown>, name: string, ok: (v: unknown) => v is T, what: string): T {
  const value = body[name];
  if (!ok(value)) throw new MalformedPacketError(`field ${name} must be ${what}, got ${describe(value)}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isSizeOrNull = (v: unknown): v is number | null => v === null || isCount(v);
const isHex64 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

export function parseStart(body: Record<string, unknown>): FileStart {
  const chunkSize = field(body, 'chunkSize', isCount, 'an integer');
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new OversizeError(`chunk size ${chunkSize} is outside ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}`);
  }
  return {
    filename: assertFilename(field(body, 'filename', isString, 'a string')),
    destination: assertDestination(field(body, 'destination', isString, 'a string')),
    domain: assertDomain(field(body, 'domain', isString, 'a string')),
    size: field(body, 'size', isSizeOrNull, 'an integer or null'),
    contentType: field(body, 'contentType', isString, 'a string'),
    chunkSize,
    startedAt: field(body, 'startedAt', isString, 'a string'),
  };
}

export function parseEnd(body: Record<string, unknown>, seq: number): FileEnd {
  const chunks = field(body, 'chunks', isCount, 'an integer');
  if (chunks !== seq - 1) throw new MalformedPacketError(`end packet ${seq} claims ${chunks} chunks`);
  return {
    chunks,
    bytes: field(body, 'bytes', isCount, 'an integer'),
    sha256: field(body, 'sha256', isHex64, '64 lower-case hex characters'),
    meta: assertMeta(body['meta']),
  };
}

/** meta must be a JSON object of bounded size (Nanite sent whatever Marshal could dump). */
export function assertMeta(meta: unknown): Meta {
  if (!isPlainObject(meta)) throw new MalformedPacketError('meta must be a JSON object');
  let json: string;
  try {
    json = JSON.stringify(meta);
  } catch (cause) {
    throw new MalformedPacketError('meta is not serialisable as JSON', { cause });
  }
  // A Date or an object with toJSON passes the check above yet goes on the wire as a string or an
  // array, which every receiver refuses: judge what is sent, as the receiver will.
  if (typeof json !== 'string' || !json.startsWith('{')) throw new MalformedPacketError('meta must serialise as a JSON object');
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_META_BYTES) throw new OversizeError(`meta of ${bytes} bytes exceeds ${MAX_META_BYTES}`);
  return meta as Meta;
}
