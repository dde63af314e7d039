import { z } from 'zod';
import { MalformedPacketError } from '../errors.js';

/**
 * The part of an S3 event notification filepeer reads, parsed before use.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 */
const recordSchema = z.object({
  eventSource: z.literal('aws:s3'),
  eventName: z.string(),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      eTag: z.string().optional(),
      versionId: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});

const eventSchema = z.object({ Records: z.array(recordSchema) });

export interface S3ObjectCreated {
  eventName: string;
  bucket: string;
  /** The object key, decoded (AWS sends it URL-encoded, spaces as `+`). */
  key: string;
  size: number | undefined;
  eTag: string | undefined;
  versionId: string | undefined;
  sequencer: string | undefined;
}

/** Keys arrive URL-encoded with `+` for spaces: `a+b%2Bc.txt` is the object `a b+c.txt`. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** The inverse, as AWS does it: for local emulation, which gets raw keys from s3rver. */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** Parse an S3 notification; only ObjectCreated records are returned. */
export function parseS3Event(event: unknown): S3ObjectCreated[] {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success) throw new MalformedPacketError(`not an S3 event notification: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data.Records.filter((r) => r.eventName.startsWith('ObjectCreated:')).map((r) => {
    let key: string;
    try {
      key = decodeS3Key(r.s3.object.key);
    } catch (cause) {
      throw new MalformedPacketError(`S3 event key ${JSON.stringify(r.s3.object.key)} is not URL-encoded`, { cause });
    }
    return {
      eventName: r.eventName,
      bucket: r.s3.bucket.name,
      key,
      size: r.s3.object.size,
      eTag: r.s3.object.eTag,
      versionId: r.s3.object.versionId,
      sequencer: r.s3.object.sequencer,
    };
  });
}
