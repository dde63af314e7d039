/** Wire protocol v1 constants. docs/PROTOCOL.md describes them; keep the two in step. */

export const PROTOCOL_VERSION = 1 as const;

/** Nanite's names, kept so a Nanite-era operator recognises the topology. */
export const DEFAULT_EXCHANGE = 'file broadcast' as const;
export const DEFAULT_ROUTING_PREFIX = 'nanite.filepeer' as const;
export const DEFAULT_DOMAIN = 'global' as const;

/** Packet kinds, carried in the AMQP `type` property. */
export const PacketKind = {
  Start: 'file.start',
  Chunk: 'file.chunk',
  End: 'file.end',
} as const;
export type PacketKind = (typeof PacketKind)[keyof typeof PacketKind];

/** AMQP headers every packet carries. */
export const Header = {
  Version: 'x-filepeer-version',
  Token: 'x-filepeer-token',
  Seq: 'x-filepeer-seq',
  /** Dead-letter headers, added when a receiver gives a packet up. */
  DeadReason: 'x-filepeer-dead-reason',
  DeadDetail: 'x-filepeer-dead-detail',
  DeadGroup: 'x-filepeer-dead-group',
  DeadQueue: 'x-filepeer-dead-queue',
  DeadRoutingKey: 'x-filepeer-dead-routing-key',
  DeadAt: 'x-filepeer-dead-at',
} as const;

export const APP_ID = 'filepeer' as const;
export const JSON_CONTENT_TYPE = 'application/json' as const;
export const CHUNK_CONTENT_TYPE = 'application/octet-stream' as const;

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Nanite's chunk size; must stay selectable. */
export const NANITE_CHUNK_SIZE = 16 * KiB;
/** Chosen from the benchmark (docs/BENCHMARKS.md): throughput flattens out from here. */
export const DEFAULT_CHUNK_SIZE = 1 * MiB;
/**
 * Upper bound a sender may choose and a receiver accepts. RabbitMQ 4.x refuses messages
 * over 16 MiB and an Amazon MQ event-source record over 6 MB (after base64, +1/3) is dropped,
 * so 4 MiB keeps every path open.
 */
export const MAX_CHUNK_SIZE = 4 * MiB;
export const MIN_CHUNK_SIZE = 1;

/** FileEnd's `meta` is the sender's JSON object; bounded so an end packet stays small. */
export const MAX_META_BYTES = 16 * KiB;
/** A start or end packet body over this is refused before it is parsed. */
export const MAX_CONTROL_BODY_BYTES = 64 * KiB;
export const MAX_DESTINATION_BYTES = 1024;
export const MAX_SEGMENT_BYTES = 255;
export const MAX_DOMAIN_LENGTH = 200;
