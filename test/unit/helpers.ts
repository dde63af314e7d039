/** Shared fixtures for the unit tests: packet builders, a message shape, and a seeded PRNG. */
import { createHash } from 'node:crypto';
import type { Message } from 'amqplib';
import type { EncodedPacket } from '../../shared/protocol/codec.js';
import { Header, PROTOCOL_VERSION } from '../../shared/protocol/constants.js';
import type { FileEnd, FileStart } from '../../shared/protocol/types.js';

export const TOKEN = '0123456789abcdef0123456789abcdef';

export type WireMessage = Pick<Message, 'content' | 'properties'>;

/** What an amqplib consumer would hand over for an encoded packet (the properties it publishes). */
export function asMessage(encoded: EncodedPacket): WireMessage {
  const { options, content } = encoded;
  return {
    content,
    properties: {
      contentType: options.contentType,
      contentEncoding: undefined,
      headers: options.headers ? { ...options.headers } : undefined,
      deliveryMode: options.persistent ? 2 : 1,
      priority: undefined,
      correlationId: undefined,
      replyTo: undefined,
      expiration: undefined,
      messageId: options.messageId,
      timestamp: undefined,
      type: options.type,
      userId: undefined,
      appId: options.appId,
      clusterId: undefined,
    },
  };
}

/** A message built by hand: any type, any headers (or none), any body. */
export function rawMessage(type: unknown, headers: unknown, content: unknown): WireMessage {
  const base = asMessage({ content: Buffer.alloc(0), options: {} });
  return {
    content: content as Buffer,
    properties: { ...base.properties, type, headers: headers as Record<string, unknown> | undefined },
  };
}

/** The three protocol headers, with overrides (a value of undefined removes that header). */
export function headers(seq: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const h: Record<string, unknown> = { [Header.Version]: PROTOCOL_VERSION, [Header.Token]: TOKEN, [Header.Seq]: seq, ...overrides };
  for (const key of Object.keys(h)) if (h[key] === undefined) delete h[key];
  return h;
}

export function validStart(overrides: Partial<FileStart> = {}): FileStart {
  return {
    filename: 'report.csv',
    destination: 'reports/2024/report.csv',
    domain: 'finance.eu',
    size: 10,
    contentType: 'text/csv',
    chunkSize: 4,
    startedAt: '2024-05-01T12:00:00.000Z',
    ...overrides,
  };
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function validEnd(data: Buffer, chunks: number, overrides: Partial<FileEnd> = {}): FileEnd {
  return { chunks, bytes: data.length, sha256: sha256Hex(data), meta: { source: 'unit' }, ...overrides };
}

/** mulberry32: a tiny seeded PRNG, so a failing random case reproduces from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Convenience helpers over a PRNG. */
export class Rng {
  readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  between(min: number, maxInclusive: number): number {
    return min + this.int(maxInclusive - min + 1);
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined && items.length === 0) throw new Error('pick from an empty list');
    return item as T;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/**
 * Seeds for randomised tests: FILEPEER_TEST_SEED (to reproduce a failure) or two fixed seeds
 * plus one fresh seed per run. Every assertion message prints the seed it ran with.
 */
export function testSeeds(): number[] {
  const fromEnv = process.env['FILEPEER_TEST_SEED'];
  if (fromEnv !== undefined && fromEnv !== '') return [Number(fromEnv) >>> 0];
  return [1, 0xc0ffee, (Date.now() ^ (process.pid << 16)) >>> 0];
}
