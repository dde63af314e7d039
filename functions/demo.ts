/**
 * `npm run demo`: the whole product on one machine. The embedded S3 server (s3rver) stands in for
 * AWS S3; RabbitMQ is the local one (AMQP_URL, default amqp://guest:guest@127.0.0.1:5672).
 * Sample objects are uploaded into the upload bucket; s3rver's event records, re-encoded to AWS
 * form, invoke the real broadcast handler; two receiver groups run the worker core into the
 * destination bucket; the example domain handler runs in-process. It prints, for each file and
 * group, what landed where, verified, and what the handler returned. Leaves nothing behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BrokerError, FilepeerError } from '../shared/errors.js';
import { startEmbeddedS3, EMBEDDED_S3_CREDENTIALS } from '../shared/local/embedded-s3.js';
import { forwardS3Events } from '../shared/local/s3-events.js';
import { deadLetterQueueName, groupQueueName } from '../shared/broker/topology.js';
import { amqpUrlFromEnv } from '../shared/config/env.js';
import { Filepeer } from '../shared/peer.js';
import { HandlerRouter } from '../shared/handlers/router.js';
import { S3Sink } from '../shared/sinks/s3.js';
import { runReceiver, type HandlerOutcome } from '../shared/receiver/run.js';
import type { ReceivedFile } from '../shared/consumer/types.js';
import { createLogger } from '../shared/log.js';

// This machine runs Node 20; the SDK's notice that its 2027 releases need Node 22 is not news here
// (the Lambda functions run on nodejs22.x).
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const MiB = 1024 * 1024;
const UPLOADS = 'filepeer-uploads';
const RECEIVED = 'filepeer-received';
const GROUPS = ['demo-archive', 'demo-mirror'] as const;
/** The samples' domains (not `#`: other broadcasts on this broker are none of the demo's business). */
const DOMAINS = ['reports', 'global', 'images'] as const;
const SAMPLES = [
  { key: 'incoming/reports/2026/q3 summary.bin', size: 12 * MiB + 321, metadata: { owner: 'finance' } },
  { key: 'incoming/global/a b+c%.txt', size: 2_000, metadata: {} },
  { key: 'photos/cat.jpg', size: 3 * MiB, metadata: { 'filepeer-domain': 'images', 'filepeer-destination': 'pets/cat.jpg' } },
] as const;

interface Delivery {
  file: ReceivedFile;
  handled: HandlerOutcome;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function main(): Promise<void> {
  const logger = createLogger();
  const url = amqpUrlFromEnv();
  const s3 = await startEmbeddedS3([UPLOADS, RECEIVED]);
  // The functions read their configuration from the environment, as in Lambda.
  Object.assign(process.env, {
    FILEPEER_AMQP_URL: url,
    FILEPEER_S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
    AWS_REGION: process.env['AWS_REGION'] ?? 'us-east-1',
  });
  const broadcast = await import('./broadcast/handler.js');
  const stop = new AbortController();
  const deliveries: Delivery[] = [];
  const receivers: Array<Promise<unknown>> = [];
  const peers: Filepeer[] = [];
  try {
    // Two receiver groups, as two workers would run them (each its own connection).
    const ready: Array<Promise<void>> = [];
    for (const group of GROUPS) {
      const peer = await Filepeer.connect({ url, logger });
      peers.push(peer);
      const handlers = new HandlerRouter([{ pattern: '#', module: new URL('./handler-example/handler.ts', import.meta.url).pathname }]);
      const sink = new S3Sink({ client: s3.client, bucket: RECEIVED, prefix: `${group}/` });
      let bound: () => void = () => undefined;
      ready.push(new Promise((resolve) => (bound = resolve)));
      receivers.push(runReceiver(peer, { group, domains: DOMAINS, sink, handlers, onFile: (file, handled) => deliveries.push({ file, handled }) }, { signal: stop.signal }));
      // runReceiver subscribes first thing; wait for the queues so the first broadcast is routable.
      void Promise.all(DOMAINS.map((d) => waitForQueue(peer, groupQueueName(group, d)))).then(bound);
    }
    await Promise.all(ready);

    // The upload bucket's notifications invoke the broadcast handler, as S3 would invoke the Lambda.
    const invocations: Array<Promise<unknown>> = [];
    const unforward = forwardS3Events(s3.server, UPLOADS, (event) => invocations.push(broadcast.handler(event)));
    const started = Date.now();
    const uploaded = new Map<string, string>();
    for (const sample of SAMPLES) {
      const body = randomBytes(sample.size);
      uploaded.set(sample.key, sha256(body));
      await s3.client.send(new PutObjectCommand({ Bucket: UPLOADS, Key: sample.key, Body: body, Metadata: sample.metadata }));
      console.log(`uploaded  s3://${UPLOADS}/${sample.key} (${sample.size} bytes)`);
    }
    await waitUntil(() => invocations.length === SAMPLES.length, 30_000, 'the S3 events');
    await Promise.all(invocations);
    unforward();
    await waitUntil(() => deliveries.length === SAMPLES.length * GROUPS.length, 60_000, 'every group to receive every file');

    let ok = true;
    console.log('');
    for (const { file, handled } of deliveries.sort((a, b) => `${a.file.destination}${a.file.group}`.localeCompare(`${b.file.destination}${b.file.group}`))) {
      if (file.location.kind !== 's3') throw new Error('expected the S3 sink');
      const obj = await s3.client.send(new GetObjectCommand({ Bucket: file.location.bucket, Key: file.location.key }));
      const atRest = sha256(Buffer.concat(await collect(obj.Body as Readable)));
      const source = (file.meta['source'] as { key: string } | undefined)?.key ?? '?';
      const verified = atRest === file.sha256 && atRest === uploaded.get(source);
      ok &&= verified && handled.ok;
      console.log(`${verified ? 'VERIFIED' : 'MISMATCH'}  ${source}  →  group ${file.group}, domain ${file.domain}`);
      console.log(`          ${file.size} bytes, sha256 ${atRest}`);
      console.log(`          landed at s3://${file.location.bucket}/${file.location.key}`);
      console.log(`          handler returned ${JSON.stringify(handled.ok ? handled.result : { error: handled.error })}`);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(2);
    console.log(`\n${deliveries.length} deliveries (${SAMPLES.length} files × ${GROUPS.length} groups) in ${seconds} s, ${ok ? 'all verified' : 'SOME FAILED'}`);
    if (!ok) process.exitCode = 1;
  } finally {
    stop.abort();
    await Promise.allSettled(receivers);
    await broadcast.closeConnection();
    await removeDemoQueues(peers[0]);
    await Promise.all(peers.map((p) => p.close()));
    await s3.close();
  }
}

async function collect(stream: Readable): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const piece of stream) out.push(piece as Buffer);
  return out;
}

async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new FilepeerError(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function waitForQueue(peer: Filepeer, queue: string): Promise<void> {
  for (;;) {
    const channel = await peer.connection.createChannel();
    channel.on('error', () => undefined);
    const found = await channel.checkQueue(queue).then(() => true, () => false);
    if (found) {
      await channel.close();
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The demo's groups are throwaway: remove their queues so later broadcasts don't pile up in them. */
async function removeDemoQueues(peer: Filepeer | undefined): Promise<void> {
  if (!peer?.isOpen) return;
  const channel = await peer.connection.createChannel();
  for (const group of GROUPS) {
    for (const domain of DOMAINS) await channel.deleteQueue(groupQueueName(group, domain));
    await channel.deleteQueue(deadLetterQueueName(group));
  }
  await channel.close();
}

main().catch((err: unknown) => {
  if (err instanceof BrokerError) console.error(`demo: ${err.message}`);
  else console.error(err instanceof FilepeerError ? `demo: ${err.message}` : err);
  process.exit(1);
});
