import { z } from 'zod';
import { SinkError } from '../errors.js';
import { parseStart } from '../protocol/codec.js';
import type { PersistedTransfer } from './state.js';

/** Loaded on first use through stateDecoder() (state.ts): see there why. */
const stateSchema = z.object({
  v: z.literal(1),
  token: z.string().regex(/^[0-9a-f]{32}$/),
  group: z.string().min(1),
  phase: z.enum(['receiving', 'committed', 'done']),
  start: z.record(z.string(), z.unknown()),
  durableSeq: z.number().int().nonnegative(),
  durableBytes: z.number().int().nonnegative(),
  sink: z.unknown(),
  updatedAt: z.string(),
});

/** The directory sink keeps no sink-specific state: the temp file's place follows from the destination. */
export const noSinkState = z.object({}).passthrough();

/** The S3 sink's own part of the persisted state: enough to resume without ListParts. */
export const s3SinkState = z.object({
  uploadId: z.string().optional(),
  parts: z.array(z.object({ PartNumber: z.number().int().positive(), ETag: z.string(), bytes: z.number().int().nonnegative() })),
  fragments: z.array(z.object({ key: z.string(), bytes: z.number().int().nonnegative() })),
});

/** Parse a state document; a corrupt one is a SinkError naming where it was found. */
export function decodeState<S>(bytes: Buffer | string, where: string, sinkSchema: z.ZodType<S>): PersistedTransfer<S> {
  try {
    const raw = stateSchema.parse(JSON.parse(bytes.toString()));
    return { ...raw, start: parseStart(raw.start), sink: sinkSchema.parse(raw.sink) };
  } catch (cause) {
    throw new SinkError(`transfer state at ${where} is unreadable`, { cause });
  }
}
