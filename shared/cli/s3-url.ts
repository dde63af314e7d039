import { ConfigError } from '../errors.js';

export interface S3Url {
  bucket: string;
  /** The object's key, or a key prefix ending in `/` (empty for the bucket's root). */
  key: string;
}

export function isS3Url(text: string): boolean {
  return text.startsWith('s3://');
}

// S3's bucket naming rules, enough to catch a typo before any request is made.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * `s3://bucket/key`: the key is taken literally (S3 keys are not URL-encoded in this form, as the
 * AWS CLI reads them). As a prefix (`--to s3://bucket/received`) a trailing `/` is added, so the
 * files land under `received/` rather than beside it as `receivedfile.bin`.
 */
export function parseS3Url(text: string, as: 'object' | 'prefix'): S3Url {
  if (!isS3Url(text)) throw new ConfigError(`${JSON.stringify(text)} is not an s3://bucket/${as === 'object' ? 'key' : 'prefix'} URL`);
  const rest = text.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  let key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET.test(bucket)) throw new ConfigError(`${JSON.stringify(text)}: ${JSON.stringify(bucket)} is not an S3 bucket name`);
  if (as === 'object' && (key === '' || key.endsWith('/'))) throw new ConfigError(`${JSON.stringify(text)} names no object (s3://bucket/key)`);
  if (as === 'prefix' && key !== '' && !key.endsWith('/')) key += '/';
  return { bucket, key };
}
