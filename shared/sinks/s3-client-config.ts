import type { S3ClientConfig } from '@aws-sdk/client-s3';

export interface S3ClientOptions {
  /** Custom endpoint (s3rver, MinIO, LocalStack); unset for AWS S3. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * The configuration of an S3 client that works against AWS S3 and against the embedded s3rver alike.
 * For a custom endpoint it uses path-style addressing and computes checksums only when an
 * operation requires them: s3rver 3.7.1 stores the SDK's aws-chunked framing inside streamed
 * PutObject bodies otherwise, silently corrupting them. We verify SHA-256 ourselves either way.
 * Kept apart from the SDK's values so that building it loads nothing (see s3-sdk.ts).
 */
export function s3ClientConfig(options: S3ClientOptions = {}): S3ClientConfig {
  const config: S3ClientConfig = { region: options.region ?? process.env['AWS_REGION'] ?? 'us-east-1' };
  if (options.credentials) config.credentials = options.credentials;
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    config.forcePathStyle = true;
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  return config;
}
