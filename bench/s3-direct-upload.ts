/**
 * The S3 baseline: `@aws-sdk/lib-storage`'s Upload of `--file` (a file stream, default part size
 * and concurrency) to the same S3 server filepeer's S3 path uses.
 *
 *   node bench/s3-direct-upload.ts --s3-endpoint URL --bucket B --key K --file F
 */
import { createReadStream } from 'node:fs';
import { Upload } from '@aws-sdk/lib-storage';
import { createS3Client } from '../shared/sinks/s3-client.js';
import { EMBEDDED_S3_CREDENTIALS } from './s3-credentials.js';
import { cpuSeconds, now, parseFlags, peakRssKiB, report, required } from './lib.js';

const flags = parseFlags(process.argv.slice(2));
const client = createS3Client({ endpoint: required(flags, 's3-endpoint'), credentials: EMBEDDED_S3_CREDENTIALS });
const cpuStart = cpuSeconds();
const startedAt = now();
const upload = new Upload({ client, params: { Bucket: required(flags, 'bucket'), Key: required(flags, 'key'), Body: createReadStream(required(flags, 'file')) } });
const out = await upload.done();
const endedAt = now();
client.destroy();
report({
  event: 'result',
  role: 's3-direct-upload',
  startedAt,
  endedAt,
  etag: out.ETag,
  cpuStart,
  maxRssKiB: peakRssKiB(),
  cpuSeconds: cpuSeconds(),
});
