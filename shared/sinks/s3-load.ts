import type { S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig, type S3ClientOptions } from './s3-client-config.js';
import { s3Sdk } from './s3-sdk.js';

/**
 * `createS3Client` (s3-client.ts) with the AWS SDK loaded on first use: what the package's entry
 * point offers, so that importing filepeer does not load the SDK (10–15 MiB of RSS) for a peer that
 * never uses S3. Code that has the SDK loaded anyway can import createS3Client from s3-client.ts.
 */
export async function loadS3Client(options: S3ClientOptions = {}): Promise<S3Client> {
  const { S3Client: Client } = await s3Sdk();
  return new Client(s3ClientConfig(options));
}
