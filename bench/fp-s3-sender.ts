/**
 * filepeer sending side of S3 → broker → S3: broadcastS3Object for one object, as the broadcast
 * function does for an S3 event (GetObject streamed through the producer).
 *
 *   node bench/fp-s3-sender.ts --url … --s3-endpoint … --bucket … --key incoming/<domain>/<name> [--chunk N]
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Filepeer } from '../shared/index.js';
import { broadcastS3Object } from '../shared/aws/s3-object.js';
import { createS3Client } from '../shared/sinks/s3-client.js';
import { EMBEDDED_S3_CREDENTIALS } from './s3-credentials.js';
import { cpuSeconds, now, parseFlags, peakRssKiB, report, required } from './lib.js';

const flags = parseFlags(process.argv.slice(2));
const url = required(flags, 'url');
const endpoint = required(flags, 's3-endpoint');
const bucket = required(flags, 'bucket');
const key = required(flags, 'key');
const chunkSize = flags.has('chunk') ? Number(flags.get('chunk')) : undefined;

const s3 = createS3Client({ endpoint, credentials: EMBEDDED_S3_CREDENTIALS });
const peer = await Filepeer.connect({ url });
// What the S3 event carries; the broadcast function does not ask S3 for it.
const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
const cpuStart = cpuSeconds();
const startedAt = now();
const result = await broadcastS3Object(peer, s3, {
  eventName: 'ObjectCreated:CompleteMultipartUpload',
  bucket,
  key,
  size: head.ContentLength,
  eTag: head.ETag,
  versionId: undefined,
  sequencer: undefined,
}, { chunkSize });
const confirmedAt = now();
await peer.close();
s3.destroy();
report({
  event: 'result',
  role: 'fp-s3-sender',
  startedAt,
  confirmedAt,
  bytes: result.bytes,
  sha256: result.sha256,
  cpuStart,
  maxRssKiB: peakRssKiB(),
  cpuSeconds: cpuSeconds(),
});
