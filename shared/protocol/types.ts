import type { PacketKind } from './constants.js';

/** JSON object the sender attaches to a file (Nanite's `meta`). */
export type Meta = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Body of a FileStart packet (sequence number 0). */
export interface FileStart {
  /** Base name of the file as the sender knew it. */
  filename: string;
  /** Relative path, under the receiver's root, where the file should land. */
  destination: string;
  /** The domain the file was broadcast on (a routing-key suffix, never a pattern). */
  domain: string;
  /** Size in bytes when the sender knows it up front (files, S3 objects); null for streams. */
  size: number | null;
  contentType: string;
  /** Every chunk but the last carries exactly this many bytes. */
  chunkSize: number;
  /** ISO 8601 time the broadcast started. */
  startedAt: string;
}

/** Body of a FileEnd packet (sequence number chunks + 1): the commit point of a transfer. */
export interface FileEnd {
  chunks: number;
  bytes: number;
  /** Lower-case hex SHA-256 of the whole file. */
  sha256: string;
  meta: Meta;
}

interface PacketBase {
  token: string;
  seq: number;
}
export interface StartPacket extends PacketBase {
  kind: typeof PacketKind.Start;
  start: FileStart;
}
export interface ChunkPacket extends PacketBase {
  kind: typeof PacketKind.Chunk;
  data: Buffer;
}
export interface EndPacket extends PacketBase {
  kind: typeof PacketKind.End;
  end: FileEnd;
}
export type Packet = StartPacket | ChunkPacket | EndPacket;
