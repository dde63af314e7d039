/**
 * The embedded S3 server (s3rver, shared/local/embedded-s3.ts) in a process of its own, so its CPU
 * is not counted against a filepeer role. Reports its endpoint, then serves until SIGTERM, when it
 * removes its storage directory.
 *
 *   node bench/s3-server.ts --buckets a,b,c
 */
import { startEmbeddedS3 } from '../shared/local/embedded-s3.js';
import { parseFlags, report, required } from './lib.js';

const flags = parseFlags(process.argv.slice(2));
const buckets = required(flags, 'buckets').split(',');
const s3 = await startEmbeddedS3(buckets);
process.once('SIGTERM', () => {
  void s3.close().finally(() => process.exit(0));
});
report({ event: 'ready', role: 's3-server', endpoint: s3.endpoint, pid: process.pid });
