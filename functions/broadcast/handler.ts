/**
 * Lambda for S3 ObjectCreated events: streams each new object into a broadcast.
 * Thin: the work is shared/aws/broadcast-event.ts. The broker connection is kept across warm
 * invocations and replaced when it has closed (a frozen container misses heartbeats).
 */
import { createS3Client } from '../../shared/sinks/s3-client.js';
import { runtimeConfigFromEnv } from '../../shared/config/runtime.js';
import { BroadcastRetryError, broadcastS3Event, type RecordOutcome } from '../../shared/aws/broadcast-event.js';
import { metricsFromEnv } from '../../shared/metrics/index.js';
import { countBroadcastOutcomes } from '../../shared/metrics/broadcast.js';
import { connectFromConfig } from '../../shared/receiver/connect.js';
import type { Filepeer } from '../../shared/peer.js';

const config = runtimeConfigFromEnv();
const s3 = createS3Client({ endpoint: config.s3Endpoint });
let peer: Promise<Filepeer> | undefined;

async function connected(): Promise<Filepeer> {
  const current = peer && (await peer.catch(() => undefined));
  if (current?.isOpen) return current;
  peer = connectFromConfig(config);
  return peer;
}

export async function handler(event: unknown): Promise<{ records: RecordOutcome[] }> {
  const current = await connected();
  // CloudWatch EMF lines on stdout in Lambda: files and bytes sent by domain, failures, the duration.
  const metrics = metricsFromEnv(current.logger);
  const started = Date.now();
  try {
    const records = await broadcastS3Event(current, s3, event, { keyPrefix: config.keyPrefix, chunkSize: config.chunkSize });
    countBroadcastOutcomes(metrics, records, Date.now() - started);
    return { records };
  } catch (err) {
    if (err instanceof BroadcastRetryError) countBroadcastOutcomes(metrics, err.outcomes, Date.now() - started);
    throw err;
  }
}

/** Close the cached connection (local runs and tests; a Lambda container just freezes). */
export async function closeConnection(): Promise<void> {
  const current = peer && (await peer.catch(() => undefined));
  peer = undefined;
  await current?.close();
}
