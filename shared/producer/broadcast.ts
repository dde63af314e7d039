import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { ConfigError, FileNotFoundError, SizeMismatchError, UnroutableError } from '../errors.js';
import { Defaults } from '../config/defaults.js';
import { positiveInt } from '../config/env.js';
import { encodeChunk, encodeEnd, encodeStart, messageIdOf, assertMeta } from '../protocol/codec.js';
import { CHUNK_CONTENT_TYPE, MAX_CHUNK_SIZE } from '../protocol/constants.js';
import { newToken } from '../protocol/token.js';
import type { Meta } from '../protocol/types.js';
import { assertDestination, assertDomain, assertFilename, assertToken } from '../protocol/validate.js';
import { ConfirmPublisher } from '../broker/publisher.js';
import type { BrokerConnection } from '../broker/connect.js';
import { declareExchange, routingKeyOf, type Topology } from '../broker/topology.js';
import { rechunk, type ByteSource } from './chunker.js';
import { fileChunks, ringSizeFor } from './file-chunks.js';

export interface BroadcastOptions {
  /** Domain to broadcast on (default `global`); never a pattern. */
  domain?: string;
  /** Relative path where receivers put the file (default: the filename). */
  destination?: string;
  /** The sender's JSON object, handed to every receiver's callback. */
  meta?: Meta;
  /** Bytes per chunk (default 1 MiB; Nanite used 16 KiB). */
  chunkSize?: number;
  contentType?: string;
  /** Size, when known up front; receivers use it to refuse or plan early. */
  size?: number;
  /** Use this token instead of a random one (e.g. derived from an S3 object version). */
  token?: string;
  /** Called after each chunk is handed to the broker, with the bytes sent so far. */
  onProgress?: (bytesSent: number) => void;
}

export interface BroadcastResult {
  token: string;
  domain: string;
  destination: string;
  /** Bytes sent (Nanite's broadcast_file returned this). */
  bytes: number;
  chunks: number;
  sha256: string;
  /** Packets published again after a lost connection (receivers drop the copies that arrived twice). */
  republished: number;
}

export interface ProducerContext {
  broker: BrokerConnection;
  topology: Topology;
  confirmWindowMessages?: number;
  confirmWindowBytes?: number;
  confirmTimeoutMs?: number;
  reconnectTimeoutMs?: number;
}

/** Broadcast a file from disk. Rejects with FileNotFoundError when there is no regular file at `path`. */
export async function broadcastFile(
  ctx: ProducerContext,
  path: string,
  options: BroadcastOptions = {},
): Promise<BroadcastResult> {
  const info = await stat(path).catch((cause: unknown) => {
    throw new FileNotFoundError(path, { cause });
  });
  if (!info.isFile()) throw new FileNotFoundError(path);
  const chunkSize = chunkSizeOf(options);
  const handle = await open(path, 'r').catch((cause: unknown) => {
    throw new FileNotFoundError(path, { cause });
  });
  try {
    const { windowMessages, windowBytes } = windowOf(ctx);
    const ring = ringSizeFor(chunkSize, windowMessages, windowBytes);
    return await broadcastFrom(ctx, basename(path), (progress) => fileChunks(handle, chunkSize, ring, progress.confirmedChunks), {
      size: info.size,
      ...options,
      chunkSize,
    });
  } finally {
    await handle.close();
  }
}

/** What a source may ask while its broadcast runs. */
interface BroadcastProgress {
  /** Chunks of this broadcast the broker has confirmed so far (their Buffers may be reused). */
  confirmedChunks: () => number;
}

/**
 * Broadcast bytes from any stream as one file: FileStart, the chunks, FileEnd.
 * Memory stays bounded by the confirm window whatever the stream's length.
 */
export async function broadcastData(
  ctx: ProducerContext,
  filename: string,
  source: Readable | ByteSource,
  options: BroadcastOptions = {},
): Promise<BroadcastResult> {
  return broadcastFrom(ctx, filename, () => source, options);
}

async function broadcastFrom(
  ctx: ProducerContext,
  filename: string,
  sourceOf: (progress: BroadcastProgress) => Readable | ByteSource,
  options: BroadcastOptions,
): Promise<BroadcastResult> {
  const domain = assertDomain(options.domain ?? Defaults.domain);
  assertFilename(filename);
  const destination = assertDestination(options.destination ?? filename);
  const meta = assertMeta(options.meta ?? {});
  const chunkSize = chunkSizeOf(options);
  // Plain JavaScript callers can pass anything: a content type receivers would refuse fails here, not there.
  if (options.contentType !== undefined && (typeof options.contentType !== 'string' || options.contentType.length === 0 || options.contentType.length > 255)) {
    throw new ConfigError(`contentType must be a string of 1 to 255 characters, got ${JSON.stringify(options.contentType)?.slice(0, 80)}`);
  }
  if (options.size !== undefined && (!Number.isSafeInteger(options.size) || options.size < 0)) {
    throw new ConfigError(`size must be a non-negative integer, got ${String(options.size)}`);
  }
  const token = options.token === undefined ? newToken() : assertToken(options.token);
  const exchange = ctx.topology.exchange;
  const routingKey = routingKeyOf(ctx.topology, domain);

  // The exchange is declared on every channel the publisher opens, reconnections included.
  const publisher = await ConfirmPublisher.open(ctx.broker, (channel) => declareExchange(channel, ctx.topology), {
    ...windowOf(ctx),
    confirmTimeoutMs: positiveInt('confirmTimeoutMs', ctx.confirmTimeoutMs, Defaults.confirmTimeoutMs),
    reconnectTimeoutMs: positiveInt('reconnectTimeoutMs', ctx.reconnectTimeoutMs, Defaults.reconnectTimeoutMs),
  });
  try {
    const start = encodeStart(token, {
      filename,
      destination,
      domain,
      size: options.size ?? null,
      contentType: options.contentType ?? CHUNK_CONTENT_TYPE,
      chunkSize,
      startedAt: new Date().toISOString(),
    });
    await publisher.publish(exchange, routingKey, start.content, start.options);
    // Wait for the start's confirm: a mandatory message that reached no queue comes back
    // (basic.return) before its confirm, so nobody-listening is known before any chunk is sent.
    await publisher.flush();
    if (publisher.returned.has(messageIdOf(token, 0))) throw new UnroutableError(exchange, routingKey);

    const hash = createHash('sha256');
    let bytes = 0;
    let seq = 0;
    // The start is confirmed (flushed above) and the end not yet published: what is pending is chunks.
    const progress: BroadcastProgress = { confirmedChunks: () => seq - publisher.pending };
    for await (const data of rechunk(sourceOf(progress), chunkSize)) {
      seq += 1;
      hash.update(data);
      bytes += data.length;
      const chunk = encodeChunk(token, seq, data);
      await publisher.publish(exchange, routingKey, chunk.content, chunk.options);
      options.onProgress?.(bytes);
    }
    if (options.size !== undefined && bytes !== options.size) {
      throw new SizeMismatchError(`${filename}: the source gave ${bytes} bytes, ${options.size} were announced`);
    }
    const sha256 = hash.digest('hex');
    const end = encodeEnd(token, seq + 1, { chunks: seq, bytes, sha256, meta });
    await publisher.publish(exchange, routingKey, end.content, end.options);
    await publisher.flush();
    if (publisher.returned.size > 0) throw new UnroutableError(exchange, routingKey);
    return { token, domain, destination, bytes, chunks: seq, sha256, republished: publisher.republished };
  } finally {
    publisher.close();
  }
}

function windowOf(ctx: ProducerContext): { windowMessages: number; windowBytes: number } {
  return {
    windowMessages: positiveInt('confirmWindowMessages', ctx.confirmWindowMessages, Defaults.confirmWindowMessages),
    windowBytes: positiveInt('confirmWindowBytes', ctx.confirmWindowBytes, Defaults.confirmWindowBytes),
  };
}

function chunkSizeOf(options: BroadcastOptions): number {
  const size = options.chunkSize ?? Defaults.chunkSize;
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_CHUNK_SIZE) {
    throw new ConfigError(`chunkSize must be an integer from 1 to ${MAX_CHUNK_SIZE}, got ${String(options.chunkSize)}`);
  }
  return size;
}
