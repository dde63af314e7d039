import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { FileNotFoundError, FilepeerError, SinkError } from '../errors.js';
import type { Meta } from '../protocol/types.js';
import { createS3Client } from '../sinks/s3-client.js';
import { parseS3Url } from './s3-url.js';

export interface S3Source {
  filename: string;
  body: Readable;
  size: number | undefined;
  contentType: string | undefined;
  /** `source`, as the broadcast Lambda sets it: a domain handler finds the original object there. */
  meta: Meta;
  close(): void;
}

/** Open `s3://bucket/key` for streaming: GetObject's body goes through the producer chunk by chunk. */
export async function openS3Object(url: string, endpoint: string | undefined): Promise<S3Source> {
  const { bucket, key } = parseS3Url(url, 'object');
  const client = createS3Client({ endpoint });
  let out;
  try {
    out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (cause) {
    client.destroy();
    const name = (cause as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket') throw new FileNotFoundError(url, { cause });
    throw new SinkError(`cannot read ${url}: ${name ?? 'error'}`, { cause });
  }
  const body = out.Body as Readable | undefined;
  if (!body) {
    client.destroy();
    throw new FilepeerError(`${url} has no body`);
  }
  return {
    filename: basename(key),
    body,
    size: out.ContentLength,
    contentType: out.ContentType,
    meta: { source: { bucket, key, versionId: out.VersionId ?? null, eTag: out.ETag?.replace(/"/g, '') ?? null } },
    close() {
      body.destroy();
      client.destroy();
    },
  };
}
