import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_DOMAIN,
  DEFAULT_EXCHANGE,
  DEFAULT_ROUTING_PREFIX,
  MiB,
} from '../protocol/constants.js';

/** Every default in one place; options objects fall back to these. */
export const Defaults = {
  amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
  exchange: DEFAULT_EXCHANGE,
  routingPrefix: DEFAULT_ROUTING_PREFIX,
  domain: DEFAULT_DOMAIN,
  chunkSize: DEFAULT_CHUNK_SIZE,
  /** AMQP heartbeat: how soon a dead socket is noticed. */
  heartbeatSeconds: 15,
  /** Unconfirmed publishes a sender keeps in flight, by count and by bytes (whichever binds first). */
  confirmWindowMessages: 256,
  confirmWindowBytes: 16 * MiB,
  /** A publish the broker has not confirmed after this long fails the broadcast (amqplib can wait forever). */
  confirmTimeoutMs: 30_000,
  /** Reconnection backoff after the broker closed the connection or went away. */
  reconnectInitialDelayMs: 200,
  reconnectMaxDelayMs: 5_000,
  /** A broadcast waits this long for a lost connection to come back, then fails (a receiver waits forever). */
  reconnectTimeoutMs: 60_000,
  /** Bytes a receiver lets the broker push ahead of what it has processed. */
  readAheadBytes: 8 * MiB,
  /** A transfer with no packet for this long is abandoned and its partial data removed. */
  idleTimeoutMs: 10 * 60_000,
  /** Directory sink: fsync (and so ack) at least every this many bytes. */
  syncBytes: 8 * MiB,
  /** S3 sink: multipart part size. AWS needs >= 5 MiB for every part but the last. */
  partSize: 8 * MiB,
  /** Memory sink: refuse files larger than this rather than exhaust the heap. */
  memoryMaxBytes: 256 * MiB,
  /** How many finished transfer tokens a receiver remembers, to recognise late duplicates. */
  rememberedTransfers: 10_000,
} as const;

export const S3_MIN_PART_SIZE = 5 * MiB;
export const S3_MAX_PARTS = 10_000;
