import type { S3Client } from '@aws-sdk/client-s3';
import { Defaults, S3_MAX_PARTS, S3_MIN_PART_SIZE } from '../config/defaults.js';
import { ConfigError, OversizeError, SinkError } from '../errors.js';
import { isStale, stateDecoder, stateDir, stateName, tokenOfStateName, type PersistedTransfer } from './state.js';
import { assertDestination } from '../protocol/validate.js';
import type { Location, Sink, SinkTarget, SinkWriter } from './types.js';
import { S3Writer } from './s3-writer.js';
import { s3Sdk } from './s3-sdk.js';

export type S3Location = Extract<Location, { kind: 's3' }>;

/** Where fragments staged under prefetch pressure live, under the sink's prefix. */
export const STAGING_PREFIX = '.filepeer/staging/' as const;

export interface S3SinkOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix put before each destination, e.g. `received/` (default none). */
  prefix?: string;
  /** Multipart part size; at least 5 MiB (AWS's minimum for every part but the last). */
  partSize?: number;
}

/**
 * Reassembles into an S3 object. Chunks are gathered into parts of at least `partSize`;
 * a part is uploaded as soon as it is full, and only then are its chunks acknowledged. The object
 * becomes visible only at CompleteMultipartUpload (or PutObject for a file smaller than one part),
 * after the receiver verified size, chunk count and SHA-256. S3's own multipart checksum is a
 * composite, not the file's digest, so the digest is computed by the receiver, never asked of S3.
 *
 * When the receiver runs short of prefetch before a part is full (many interleaved transfers, small
 * chunks, or a fixed prefetch), the writer stages what it holds as a small object under
 * `.filepeer/staging/<group>/<token>/`, so those chunks can be acked, and reads the fragments back when the
 * part is assembled. Fragments are deleted once their part is uploaded or the transfer ends.
 */
export class S3Sink implements Sink<S3Location> {
  readonly kind = 's3' as const;
  readonly resumable = true;
  readonly bucket: string;
  readonly prefix: string;
  readonly partSize: number;
  private readonly client: S3Client;

  constructor(options: S3SinkOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.partSize = options.partSize ?? Defaults.partSize;
    if (!this.bucket) throw new ConfigError('S3 sink needs a bucket');
    if (this.prefix.startsWith('/')) throw new ConfigError('S3 sink prefix must not start with "/"');
    if (this.partSize < S3_MIN_PART_SIZE) throw new ConfigError(`S3 part size must be at least ${S3_MIN_PART_SIZE} bytes`);
  }

  keyOf(destination: string): string {
    return `${this.prefix}${assertDestination(destination)}`;
  }

  async lookup(group: string, token: string): Promise<PersistedTransfer | undefined> {
    const key = `${this.prefix}${stateName(group, token)}`;
    const { GetObjectCommand, NoSuchKey } = await s3Sdk();
    let body: Buffer;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      body = Buffer.from(await out.Body!.transformToByteArray());
    } catch (cause) {
      if (cause instanceof NoSuchKey || (cause as { name?: string }).name === 'NoSuchKey') return undefined;
      throw new SinkError(`cannot read transfer state s3://${this.bucket}/${key}`, { cause });
    }
    const { decodeState, s3SinkState } = await stateDecoder();
    return decodeState(body, `s3://${this.bucket}/${key}`, s3SinkState);
  }

  async stale(group: string, before: Date): Promise<PersistedTransfer[]> {
    const prefix = `${this.prefix}${stateDir(group)}`;
    const { ListObjectsV2Command } = await s3Sdk();
    const out: PersistedTransfer[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken }));
      for (const obj of page.Contents ?? []) {
        // LastModified is when the state was last written: skip reading the recent ones.
        if (!obj.Key || (obj.LastModified && obj.LastModified >= before)) continue;
        const token = tokenOfStateName(obj.Key.slice(prefix.length));
        const state = token && (await this.lookup(group, token).catch(() => undefined));
        if (state && isStale(state, before)) out.push(state);
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return out;
  }

  async open(target: SinkTarget, resume?: PersistedTransfer): Promise<SinkWriter<S3Location>> {
    const key = this.keyOf(target.start.destination);
    const partBytes = Math.ceil(this.partSize / target.start.chunkSize) * target.start.chunkSize;
    const { size } = target.start;
    if (size !== null && Math.ceil(size / partBytes) > S3_MAX_PARTS) {
      throw new OversizeError(`file of ${size} bytes needs more than ${S3_MAX_PARTS} parts of ${partBytes} bytes`);
    }
    const objectTarget = {
      bucket: this.bucket,
      key,
      staging: `${this.prefix}${STAGING_PREFIX}${target.group}/${target.token}/`,
      stateKey: `${this.prefix}${stateName(target.group, target.token)}`,
      contentType: target.start.contentType,
    };
    const state = resume && { ...resume, sink: (await stateDecoder()).s3SinkState.parse(resume.sink) };
    return new S3Writer(await s3Sdk(), this.client, objectTarget, target, partBytes, state);
  }
}
