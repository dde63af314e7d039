import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { S3_MIN_PART_SIZE } from '../config/defaults.js';
import { SinkError } from '../errors.js';
import type { Location, SinkWriter } from './types.js';

type S3Location = Extract<Location, { kind: 's3' }>;

export interface S3ObjectTarget {
  bucket: string;
  key: string;
  /** Key prefix for this transfer's staged fragments. */
  staging: string;
  contentType: string;
}

/**
 * One transfer into one S3 object. Bytes are durable (and their chunks may be acked) once they are
 * in an uploaded part or in a staged fragment object; `durableSeq` says up to which chunk.
 */
export class S3Writer implements SinkWriter<S3Location> {
  readonly holdChunks: number;
  /** Written since the last part or fragment, in memory. */
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  /** Staged fragments of the part being built, in order. */
  private fragments: Array<{ key: string; bytes: number }> = [];
  private fragmentBytes = 0;
  private lastSeq = 0;
  private durable = 0;
  private uploadId: string | undefined;
  private readonly parts: CompletedPart[] = [];

  constructor(
    private readonly client: S3Client,
    private readonly target: S3ObjectTarget,
    chunkSize: number,
    private readonly partBytes: number,
  ) {
    this.holdChunks = partBytes / chunkSize;
  }

  async write(seq: number, data: Buffer): Promise<void> {
    this.buffered.push(data);
    this.bufferedBytes += data.length;
    this.lastSeq = seq;
    if (this.fragmentBytes + this.bufferedBytes >= this.partBytes) await this.uploadPart();
  }

  durableSeq(): number {
    return this.durable;
  }

  async flush(): Promise<void> {
    if (this.bufferedBytes === 0) return;
    // A part may be smaller than partBytes, but not than S3's minimum (except the last).
    if (this.fragmentBytes + this.bufferedBytes >= S3_MIN_PART_SIZE) await this.uploadPart();
    else await this.stageFragment();
  }

  async commit(): Promise<S3Location> {
    const { bucket, key, contentType } = this.target;
    try {
      if (this.uploadId === undefined) {
        // Smaller than one part (or empty): one PutObject, visible at once and complete.
        const body = await this.takePartBody();
        const out = await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: contentType }));
        await this.dropFragments();
        this.durable = this.lastSeq;
        return { kind: 's3', bucket, key, etag: out.ETag };
      }
      if (this.fragmentBytes + this.bufferedBytes > 0) await this.uploadPart();
      const out = await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: this.uploadId, MultipartUpload: { Parts: this.parts } }),
      );
      return { kind: 's3', bucket, key, etag: out.ETag };
    } catch (cause) {
      if (cause instanceof SinkError) throw cause;
      throw new SinkError(`cannot complete s3://${bucket}/${key}`, { cause });
    }
  }

  async abort(): Promise<void> {
    this.buffered = [];
    await this.dropFragments().catch(() => undefined);
    if (this.uploadId === undefined) return;
    const { bucket, key } = this.target;
    // s3rver answers 405 here; AWS frees the parts. The bucket's lifecycle rule is the backstop.
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: this.uploadId })).catch(() => undefined);
  }

  private async uploadPart(): Promise<void> {
    const { bucket, key, contentType } = this.target;
    const seq = this.lastSeq;
    try {
      if (this.uploadId === undefined) {
        const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }));
        if (!created.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
        this.uploadId = created.UploadId;
      }
      const body = await this.takePartBody();
      const PartNumber = this.parts.length + 1;
      const out = await this.client.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: this.uploadId, PartNumber, Body: body, ContentLength: body.length }),
      );
      this.parts.push({ PartNumber, ETag: out.ETag });
      await this.dropFragments();
    } catch (cause) {
      throw new SinkError(`cannot upload part ${this.parts.length + 1} of s3://${bucket}/${key}`, { cause });
    }
    this.durable = seq;
  }

  /** Put what is buffered in a small object of its own, so its chunks are durable before a part is full. */
  private async stageFragment(): Promise<void> {
    const body = Buffer.concat(this.buffered, this.bufferedBytes);
    const key = `${this.target.staging}${this.parts.length + 1}-${this.fragments.length}`;
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.target.bucket, Key: key, Body: body, ContentLength: body.length }));
    } catch (cause) {
      throw new SinkError(`cannot stage a fragment at s3://${this.target.bucket}/${key}`, { cause });
    }
    this.fragments.push({ key, bytes: body.length });
    this.fragmentBytes += body.length;
    this.buffered = [];
    this.bufferedBytes = 0;
    this.durable = this.lastSeq;
  }

  /** The staged fragments read back, then what is in memory: the next part's bytes. */
  private async takePartBody(): Promise<Buffer> {
    const pieces: Buffer[] = [];
    for (const f of this.fragments) {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.target.bucket, Key: f.key }));
      const bytes = Buffer.from(await out.Body!.transformToByteArray());
      if (bytes.length !== f.bytes) throw new SinkError(`staged fragment ${f.key} has ${bytes.length} bytes, ${f.bytes} were written`);
      pieces.push(bytes);
    }
    pieces.push(...this.buffered);
    const body = Buffer.concat(pieces, this.fragmentBytes + this.bufferedBytes);
    this.buffered = [];
    this.bufferedBytes = 0;
    return body;
  }

  private async dropFragments(): Promise<void> {
    const doomed = this.fragments;
    this.fragments = [];
    this.fragmentBytes = 0;
    await Promise.all(doomed.map((f) => this.client.send(new DeleteObjectCommand({ Bucket: this.target.bucket, Key: f.key }))));
  }
}
