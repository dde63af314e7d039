import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { createS3Client } from '../sinks/s3-client.js';

/** s3rver accepts this key pair (and, by default, any signature made with it). */
export const EMBEDDED_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface EmbeddedS3 {
  endpoint: string;
  client: S3Client;
  /** The s3rver instance, e.g. to listen for its 'event' records. */
  server: S3rver;
  close(): Promise<void>;
}

/**
 * The embedded default S3: s3rver in this process, on 127.0.0.1 and a free port, storing in a
 * fresh temp directory that is removed on close. For the demo and the tests; production points
 * the same code at AWS S3.
 */
export async function startEmbeddedS3(buckets: readonly string[]): Promise<EmbeddedS3> {
  const directory = await mkdtemp(join(tmpdir(), 'filepeer-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = createS3Client({ endpoint, credentials: EMBEDDED_S3_CREDENTIALS });
  return {
    endpoint,
    client,
    server,
    async close() {
      client.destroy();
      await server.close().catch(() => undefined);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
