import type { S3Client } from '@aws-sdk/client-s3';
import { FilepeerError, messageOf } from '../errors.js';
import type { Filepeer } from '../peer.js';
import { broadcastS3Object } from './s3-object.js';
import { parseS3Event } from './s3-event.js';

export interface RecordOutcome {
  bucket: string;
  key: string;
  ok: boolean;
  token?: string;
  bytes?: number;
  domain?: string;
  error?: string;
  retryable?: boolean;
}

/** Some records failed in a way another attempt may fix: throwing makes Lambda retry the event. */
export class BroadcastRetryError extends FilepeerError {
  override readonly code = 'broadcast-retry';
  override readonly retryable = true;
  constructor(readonly outcomes: RecordOutcome[]) {
    super(`${outcomes.filter((o) => !o.ok).length} of ${outcomes.length} objects could not be broadcast; retrying`);
  }
}

/**
 * Broadcast every object an S3 ObjectCreated event names. Each record is tried; one that fails
 * for good (a bad domain, no receiver bound) is reported and skipped, one that may succeed later
 * (S3 or broker trouble) makes the whole event fail so Lambda retries it — records already sent
 * go again under the same derived token, and receivers drop the copies.
 */
export async function broadcastS3Event(
  peer: Filepeer,
  s3: S3Client,
  event: unknown,
  options: { keyPrefix?: string; chunkSize?: number } = {},
): Promise<RecordOutcome[]> {
  const outcomes: RecordOutcome[] = [];
  for (const object of parseS3Event(event)) {
    try {
      const sent = await broadcastS3Object(peer, s3, object, options);
      outcomes.push({ bucket: object.bucket, key: object.key, ok: true, token: sent.token, bytes: sent.bytes, domain: sent.domain });
      peer.logger.info({ token: sent.token, domain: sent.domain, bucket: object.bucket, key: object.key, bytes: sent.bytes }, 'object broadcast');
    } catch (err) {
      const retryable = !(err instanceof FilepeerError) || err.retryable;
      const error = messageOf(err);
      outcomes.push({ bucket: object.bucket, key: object.key, ok: false, error, retryable });
      peer.logger.error({ bucket: object.bucket, key: object.key, err: error, retryable }, 'object not broadcast');
    }
  }
  if (outcomes.some((o) => !o.ok && o.retryable)) throw new BroadcastRetryError(outcomes);
  return outcomes;
}
