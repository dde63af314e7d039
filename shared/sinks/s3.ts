import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Defaults, S3_MAX_PARTS, S3_MIN_PART_SIZE } from '../config/defaults.js';
import { ConfigError, OversizeError, SinkError } from '../errors.js';
import { assertDestination } from '../protocol/validate.js';
import type { FileEnd, FileStart } from '../protocol/types.js';
import type { Location, Sink, SinkTarget, SinkWriter } from './types.js';

type S3Location = Extract<Location, { kind: 's3' }>;

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
 */
export class S3Sink implements Sink<S3Location> {
  readonly kind = 's3' as const;
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

  async open(target: SinkTarget): Promise<SinkWriter<S3Location>> {
    const key = this.keyOf(target.start.destination);
    const partBytes = Math.ceil(this.partSize / target.start.chunkSize) * target.start.chunkSize;
    const { size } = target.start;
    if (size !== null && Math.ceil(size / partBytes) > S3_MAX_PARTS) {
      throw new OversizeError(`file of ${size} bytes needs more than ${S3_MAX_PARTS} parts of ${partBytes} bytes`);
    }
    return new S3Writer(this.client, this.bucket, key, target.start, partBytes);
  }
}

class S3Writer implements SinkWriter<S3Location> {
  readonly holdChunks: number;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private lastSeq = 0;
  private uploadedSeq = 0;
  private uploadId: string | undefined;
  private readonly parts: CompletedPart[] = [];

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly start: FileStart,
    private readonly partBytes: number,
  ) {
    this.holdChunks = partBytes / start.chunkSize;
  }

  async write(seq: number, data: Buffer): Promise<void> {
    this.buffered.push(data);
    this.bufferedBytes += data.length;
    this.lastSeq = seq;
    if (this.bufferedBytes >= this.partBytes) await this.uploadBuffered();
  }

  durableSeq(): number {
    return this.uploadedSeq;
  }

  /** A part under the minimum size cannot be uploaded until it fills up or the file ends. */
  async flush(): Promise<void> {}

  async commit(_end: FileEnd): Promise<S3Location> {
    try {
      if (this.uploadId === undefined) {
        // Smaller than one part (or empty): a single PutObject, visible at once and complete.
        const out = await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.key,
            Body: Buffer.concat(this.buffered, this.bufferedBytes),
            ContentLength: this.bufferedBytes,
            ContentType: this.start.contentType,
          }),
        );
        this.uploadedSeq = this.lastSeq;
        this.buffered = [];
        return { kind: 's3', bucket: this.bucket, key: this.key, etag: out.ETag };
      }
      if (this.bufferedBytes > 0) await this.uploadBuffered();
      const out = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: this.parts },
        }),
      );
      return { kind: 's3', bucket: this.bucket, key: this.key, etag: out.ETag };
    } catch (cause) {
      if (cause instanceof SinkError) throw cause;
      throw new SinkError(`cannot complete s3://${this.bucket}/${this.key}`, { cause });
    }
  }

  async abort(): Promise<void> {
    this.buffered = [];
    if (this.uploadId === undefined) return;
    // s3rver answers 405 here; AWS frees the parts. The bucket's lifecycle rule is the backstop.
    await this.client
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId }))
      .catch(() => undefined);
  }

  private async uploadBuffered(): Promise<void> {
    const body = Buffer.concat(this.buffered, this.bufferedBytes);
    const seq = this.lastSeq;
    try {
      if (this.uploadId === undefined) {
        const created = await this.client.send(
          new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, ContentType: this.start.contentType }),
        );
        if (!created.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
        this.uploadId = created.UploadId;
      }
      const PartNumber = this.parts.length + 1;
      const out = await this.client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          PartNumber,
          Body: body,
          ContentLength: body.length,
        }),
      );
      this.parts.push({ PartNumber, ETag: out.ETag });
    } catch (cause) {
      throw new SinkError(`cannot upload a part of s3://${this.bucket}/${this.key}`, { cause });
    }
    this.buffered = [];
    this.bufferedBytes = 0;
    this.uploadedSeq = seq;
  }
}
