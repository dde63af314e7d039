import { DirectorySink } from '../sinks/directory.js';
import { createS3Client } from '../sinks/s3-client.js';
import { S3Sink } from '../sinks/s3.js';
import type { Sink } from '../sinks/types.js';
import { isS3Url, parseS3Url } from './s3-url.js';

/** The sink a `--to` names: `s3://bucket/prefix` or a directory. Also where its transfer state is read. */
export function sinkFor(to: string, s3Endpoint: string | undefined): Sink {
  if (!isS3Url(to)) return new DirectorySink({ root: to });
  const { bucket, key } = parseS3Url(to, 'prefix');
  return new S3Sink({ client: createS3Client({ endpoint: s3Endpoint }), bucket, prefix: key });
}
