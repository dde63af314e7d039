import { basename } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { FilepeerError, FileNotFoundError, ObjectSupersededError, SinkError } from '../errors.js';
import type { Filepeer } from '../peer.js';
import type { BroadcastResult } from '../producer/broadcast.js';
import { DEFAULT_DOMAIN } from '../protocol/constants.js';
import { derivedToken } from '../protocol/token.js';
import type { Meta } from '../protocol/types.js';
import { assertDestination, assertDomain } from '../protocol/validate.js';
import type { S3ObjectCreated } from './s3-event.js';

/** Object keys under this prefix carry their domain: `incoming/<domain>/<destination>`. */
export const DEFAULT_KEY_PREFIX = 'incoming/' as const;
/** User metadata (x-amz-meta-…) that overrides what the key says. */
export const MetadataKey = { Domain: 'filepeer-domain', Destination: 'filepeer-destination' } as const;

export interface ObjectRoute {
  domain: string;
  destination: string;
  /** Other user metadata, plus `source`: where the object came from. */
  meta: Meta;
}

/**
 * Where an uploaded object goes, from its key and user metadata:
 * - `x-amz-meta-filepeer-domain` / `-destination`, when present, decide;
 * - else a key `<prefix><domain>/<rest>` gives the domain and the destination `<rest>`;
 * - else the domain is `global` and the destination is the whole key.
 * Every other user metadata entry becomes part of `meta`; `meta.source` is reserved for the
 * object's bucket, key, version and ETag.
 */
export function routeObject(
  object: Pick<S3ObjectCreated, 'bucket' | 'key' | 'versionId' | 'eTag'>,
  metadata: Record<string, string>,
  keyPrefix: string = DEFAULT_KEY_PREFIX,
): ObjectRoute {
  let domain: string = DEFAULT_DOMAIN;
  let destination = object.key;
  if (object.key.startsWith(keyPrefix)) {
    const rest = object.key.slice(keyPrefix.length);
    const slash = rest.indexOf('/');
    if (slash > 0) {
      domain = rest.slice(0, slash);
      destination = rest.slice(slash + 1);
    }
  }
  const { [MetadataKey.Domain]: domainOverride, [MetadataKey.Destination]: destinationOverride, ...rest } = metadata;
  domain = assertDomain(domainOverride ?? domain);
  destination = assertDestination(destinationOverride ?? destination);
  const source = { bucket: object.bucket, key: object.key, versionId: object.versionId ?? null, eTag: object.eTag ?? null };
  return { domain, destination, meta: { ...rest, source } };
}

/** One token per object version: a duplicated S3 event yields the same token, and receivers drop the copy. */
export function objectToken(object: Pick<S3ObjectCreated, 'bucket' | 'key' | 'versionId' | 'eTag' | 'sequencer'>): string {
  return derivedToken('s3', object.bucket, object.key, object.versionId, object.eTag, object.sequencer);
}

/**
 * Stream one uploaded object into a broadcast: GetObject's body goes through the producer chunk by
 * chunk, so memory stays flat whatever the object size. `If-Match` on the event's ETag makes sure the
 * bytes sent are the version the event announced.
 */
export async function broadcastS3Object(
  peer: Filepeer,
  s3: S3Client,
  object: S3ObjectCreated,
  options: { keyPrefix?: string; chunkSize?: number } = {},
): Promise<BroadcastResult & { route: ObjectRoute }> {
  let out;
  try {
    out = await s3.send(
      new GetObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        VersionId: object.versionId,
        IfMatch: object.eTag ? `"${object.eTag.replace(/"/g, '')}"` : undefined,
      }),
    );
  } catch (cause) {
    const name = (cause as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound') throw new FileNotFoundError(`s3://${object.bucket}/${object.key}`, { cause });
    const status = (cause as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (name === 'PreconditionFailed' || status === 412) {
      throw new ObjectSupersededError(`s3://${object.bucket}/${object.key} changed since this event (ETag ${object.eTag ?? '?'}): skipped`, { cause });
    }
    throw new SinkError(`cannot read s3://${object.bucket}/${object.key}`, { cause });
  }
  const body = out.Body as Readable | undefined;
  if (!body) throw new FilepeerError(`s3://${object.bucket}/${object.key} has no body`);
  try {
    const route = routeObject(object, out.Metadata ?? {}, options.keyPrefix);
    const result = await peer.broadcastData(basename(route.destination), body, {
      domain: route.domain,
      destination: route.destination,
      meta: route.meta,
      size: out.ContentLength,
      contentType: out.ContentType ?? 'application/octet-stream',
      token: objectToken(object),
      chunkSize: options.chunkSize,
    });
    return { ...result, route };
  } finally {
    body.destroy();
  }
}
