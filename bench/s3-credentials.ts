/** s3rver's key pair (shared/local/embedded-s3.ts), without loading s3rver. */
export const EMBEDDED_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
