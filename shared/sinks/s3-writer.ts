import type { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { S3_MIN_PART_SIZE } from '../config/defaults.js';
import { DigestMismatchError, SinkError } from '../errors.js';
import type { CommitOptions, Location, SinkTarget, SinkWriter } from './types.js';
import { encodeState, type PersistedTransfer, type TransferPhase } from './state.js';
import type { S3Sdk } from './s3-sdk.js';

type S3Location = Extract<Location, { kind: 's3' }>;

export interface S3ObjectTarget {
  bucket: string;
  key: string;
  /** Key prefix for this transfer's staged fragments. */
  staging: string;
  /** Key of this transfer's state document. */
  stateKey: string;
  contentType: string;
}

/** The S3 sink's own part of the persisted state: enough to resume without ListParts (schema: state-decode.ts). */
export interface S3SinkState {
  uploadId?: string | undefined;
  parts: Array<{ PartNumber: number; ETag: string; bytes: number }>;
  fragments: Array<{ key: string; bytes: number }>;
}

/**
 * One transfer into one S3 object. Bytes are durable (and their chunks may be acked) once they are
 * in an uploaded part or a staged fragment *and* the state document records it; `durableSeq` says
 * up to which chunk.
 */
export class S3Writer implements SinkWriter<S3Location> {
  readonly holdChunks: number;
  /** Written since the last part or fragment, in memory. */
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private lastSeq: number;
  private bytes: number;
  private durable: number;
  private phase: TransferPhase;
  private readonly state: S3SinkState;

  constructor(
    /** The SDK's commands, loaded by the sink before it opens a writer (see s3-sdk.ts). */
    private readonly sdk: S3Sdk,
    private readonly client: S3Client,
    private readonly target: S3ObjectTarget,
    private readonly transfer: SinkTarget,
    private readonly partBytes: number,
    resume?: PersistedTransfer<S3SinkState>,
  ) {
    this.holdChunks = partBytes / transfer.start.chunkSize;
    this.lastSeq = this.durable = resume?.durableSeq ?? 0;
    this.bytes = resume?.durableBytes ?? 0;
    this.phase = resume?.phase ?? 'receiving';
    this.state = resume?.sink ?? { parts: [], fragments: [] };
  }

  private get fragmentBytes(): number {
    return this.state.fragments.reduce((n, f) => n + f.bytes, 0);
  }

  async write(seq: number, data: Buffer): Promise<void> {
    this.buffered.push(data);
    this.bufferedBytes += data.length;
    this.bytes += data.length;
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

  async commit(_end: unknown, options: CommitOptions = {}): Promise<S3Location> {
    const { bucket, key, contentType } = this.target;
    let etag: string | undefined;
    try {
      if (this.phase !== 'receiving') {
        etag = (await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag;
      } else if (this.state.uploadId === undefined) {
        // Smaller than one part (or empty): one PutObject, visible at once and complete.
        const body = await this.takePartBody();
        etag = (await this.client.send(new this.sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: contentType }))).ETag;
      } else {
        if (this.fragmentBytes + this.bufferedBytes > 0) await this.uploadPart();
        etag = await this.completeUpload(this.state.uploadId);
      }
    } catch (cause) {
      if (cause instanceof SinkError) throw cause;
      throw new SinkError(`cannot complete s3://${bucket}/${key}`, { cause });
    }
    this.durable = this.lastSeq;
    // A resumed transfer lost its running digest: read the object back before anyone is told of it.
    if (options.recheckSha256) await this.recheck(options.recheckSha256);
    await this.dropFragments();
    await this.saveState('committed');
    return { kind: 's3', bucket, key, etag };
  }

  async markDone(): Promise<void> {
    this.state.parts = [];
    this.state.fragments = [];
    delete this.state.uploadId;
    await this.saveState('done');
  }

  /** What is only in memory is not acked; it comes again to whoever resumes. Nothing to release. */
  async suspend(): Promise<void> {
    this.buffered = [];
    this.bufferedBytes = 0;
  }

  async abort(): Promise<void> {
    this.buffered = [];
    const { bucket, key, stateKey } = this.target;
    await this.dropFragments().catch(() => undefined);
    if (this.state.uploadId !== undefined) {
      // s3rver answers 405 here; AWS frees the parts. The bucket's lifecycle rule is the backstop.
      await this.client.send(new this.sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: this.state.uploadId })).catch(() => undefined);
    }
    await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: bucket, Key: stateKey })).catch(() => undefined);
  }

  private async completeUpload(uploadId: string): Promise<string | undefined> {
    const { bucket, key } = this.target;
    const Parts = this.state.parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag }));
    try {
      const out = await this.client.send(new this.sdk.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts } }));
      return out.ETag;
    } catch (cause) {
      // Completed by a process that crashed before recording it: the object is there, whole.
      const head = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
      if (head?.ContentLength === this.bytes) return head.ETag;
      throw cause;
    }
  }

  private async uploadPart(): Promise<void> {
    const { bucket, key, contentType } = this.target;
    const seq = this.lastSeq;
    try {
      if (this.state.uploadId === undefined) {
        const created = await this.client.send(new this.sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }));
        if (!created.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
        this.state.uploadId = created.UploadId;
      }
      const body = await this.takePartBody();
      const PartNumber = this.state.parts.length + 1;
      const out = await this.client.send(
        new this.sdk.UploadPartCommand({ Bucket: bucket, Key: key, UploadId: this.state.uploadId, PartNumber, Body: body, ContentLength: body.length }),
      );
      if (!out.ETag) throw new Error('UploadPart returned no ETag');
      const doomed = this.state.fragments;
      this.state.parts.push({ PartNumber, ETag: out.ETag, bytes: body.length });
      this.state.fragments = [];
      await this.saveState('receiving', seq);
      await this.deleteObjects(doomed.map((f) => f.key));
    } catch (cause) {
      if (cause instanceof SinkError) throw cause;
      throw new SinkError(`cannot upload part ${this.state.parts.length + 1} of s3://${bucket}/${key}`, { cause });
    }
    this.durable = seq;
  }

  /** Put what is buffered in a small object of its own, so its chunks are durable before a part is full. */
  private async stageFragment(): Promise<void> {
    const body = Buffer.concat(this.buffered, this.bufferedBytes);
    const key = `${this.target.staging}${this.state.parts.length + 1}-${this.state.fragments.length}`;
    const seq = this.lastSeq;
    try {
      await this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.target.bucket, Key: key, Body: body, ContentLength: body.length }));
    } catch (cause) {
      throw new SinkError(`cannot stage a fragment at s3://${this.target.bucket}/${key}`, { cause });
    }
    this.state.fragments.push({ key, bytes: body.length });
    this.buffered = [];
    this.bufferedBytes = 0;
    await this.saveState('receiving', seq);
    this.durable = seq;
  }

  /** The staged fragments read back, then what is in memory: the next part's bytes. */
  private async takePartBody(): Promise<Buffer> {
    const pieces: Buffer[] = [];
    for (const f of this.state.fragments) {
      const out = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.target.bucket, Key: f.key }));
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
    const doomed = this.state.fragments;
    this.state.fragments = [];
    await this.deleteObjects(doomed.map((f) => f.key));
  }

  private async deleteObjects(keys: string[]): Promise<void> {
    await Promise.all(keys.map((Key) => this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.target.bucket, Key }))));
  }

  private async recheck(expected: string): Promise<void> {
    const { bucket, key } = this.target;
    const out = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
    const hash = createHash('sha256');
    for await (const piece of out.Body as AsyncIterable<Uint8Array>) hash.update(piece);
    const actual = hash.digest('hex');
    if (actual !== expected) {
      await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
      throw new DigestMismatchError(this.transfer.token, expected, actual);
    }
  }

  private async saveState(phase: TransferPhase, durableSeq = this.durable): Promise<void> {
    const { bucket, stateKey } = this.target;
    const durableBytes = this.state.parts.reduce((n, p) => n + p.bytes, 0) + this.fragmentBytes;
    const state: PersistedTransfer<S3SinkState> = {
      v: 1,
      token: this.transfer.token,
      group: this.transfer.group,
      phase,
      start: this.transfer.start,
      durableSeq: phase === 'receiving' ? durableSeq : this.lastSeq,
      durableBytes: phase === 'receiving' ? durableBytes : this.bytes,
      sink: this.state,
      updatedAt: new Date().toISOString(),
    };
    const body = encodeState(state);
    try {
      await this.client.send(new this.sdk.PutObjectCommand({ Bucket: bucket, Key: stateKey, Body: body, ContentLength: body.length, ContentType: 'application/json' }));
    } catch (cause) {
      throw new SinkError(`cannot record transfer state at s3://${bucket}/${stateKey}`, { cause });
    }
    this.phase = phase;
  }
}
