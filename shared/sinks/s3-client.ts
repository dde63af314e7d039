import { S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig, type S3ClientOptions } from './s3-client-config.js';

export type { S3ClientOptions };

/** An S3 client for AWS S3 or a custom endpoint (s3rver, MinIO, LocalStack): see s3-client-config.ts. */
export function createS3Client(options: S3ClientOptions = {}): S3Client {
  return new S3Client(s3ClientConfig(options));
}
