/**
 * `npm run demo`: broadcast a generated file through the local RabbitMQ to two receiver groups —
 * one writing into a directory, one into the embedded S3 server (s3rver) — and print what each
 * received, verified against what was sent. Leaves nothing behind: temp files and demo queues go.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DirectorySink, Filepeer, FilepeerError, S3Sink, type ReceivedFile } from '../shared/index.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../shared/local/embedded-s3.js';
import { deadLetterQueueName, groupQueueName } from '../shared/broker/topology.js';
import { createLogger } from '../shared/log.js';

// This machine runs Node 20; the SDK's notice that its 2027 releases need Node 22 is not news here
// (the Lambda functions run on nodejs22.x).
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const MiB = 1024 * 1024;
const SIZE = 24 * MiB + 12_345;
const DOMAIN = 'demo';
const GROUPS = { archive: 'demo-archive', mirror: 'demo-mirror' } as const;
const BUCKET = 'demo-received';

async function sha256(stream: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of stream) hash.update(piece);
  return hash.digest('hex');
}

/** Read back what landed and hash it again: the summary reports the bytes at rest. */
async function atRest(f: ReceivedFile, s3: EmbeddedS3): Promise<{ where: string; sha256: string }> {
  switch (f.location.kind) {
    case 'directory':
      return { where: f.location.path, sha256: await sha256(createReadStream(f.location.path)) };
    case 's3': {
      const obj = await s3.client.send(new GetObjectCommand({ Bucket: f.location.bucket, Key: f.location.key }));
      return { where: `s3://${f.location.bucket}/${f.location.key} (embedded s3rver ${s3.endpoint})`, sha256: await sha256(obj.Body as Readable) };
    }
    case 'memory':
      return { where: 'memory', sha256: await sha256([f.location.data]) };
  }
}

async function main(): Promise<void> {
  const logger = createLogger();
  const peer = await Filepeer.connect({ logger });
  const work = await mkdtemp(join(tmpdir(), 'filepeer-demo-'));
  const s3 = await startEmbeddedS3([BUCKET]);
  try {
    const source = join(work, 'report.bin');
    await writeFile(source, randomBytes(SIZE));
    console.log(`generated ${source} (${SIZE} bytes)`);

    const received: ReceivedFile[] = [];
    let allIn: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (allIn = resolve));
    const onFile = (f: ReceivedFile): void => {
      received.push(f);
      if (received.length === 2) allIn();
    };
    await peer.subscribeToFiles(DOMAIN, { group: GROUPS.archive, sink: new DirectorySink({ root: join(work, 'archive') }) }, onFile);
    await peer.subscribeToFiles(DOMAIN, { group: GROUPS.mirror, sink: new S3Sink({ client: s3.client, bucket: BUCKET, prefix: 'mirror/' }) }, onFile);

    const started = Date.now();
    const sent = await peer.broadcastFile(source, {
      domain: DOMAIN,
      destination: 'reports/2026/report.bin',
      meta: { from: 'demo', note: 'hello from filepeer' },
    });
    console.log(`sent     token ${sent.token}: ${sent.bytes} bytes in ${sent.chunks} chunks, sha256 ${sent.sha256}`);
    const timeout = setTimeout(() => {
      console.error('demo: the files did not arrive within 60 s');
      process.exit(1);
    }, 60_000);
    await arrived;
    clearTimeout(timeout);
    const seconds = (Date.now() - started) / 1000;

    let ok = true;
    for (const f of received.sort((a, b) => a.group.localeCompare(b.group))) {
      const rest = await atRest(f, s3);
      const verified = f.size === sent.bytes && f.sha256 === sent.sha256 && rest.sha256 === sent.sha256;
      ok &&= verified;
      console.log(`received group ${f.group}: ${f.size} bytes, sha256 ${rest.sha256} ${verified ? 'VERIFIED' : 'MISMATCH'}`);
      console.log(`         at ${rest.where}`);
      console.log(`         meta ${JSON.stringify(f.meta)}`);
    }
    console.log(`${received.length} groups received ${sent.bytes} bytes each in ${seconds.toFixed(2)} s`);
    if (!ok) process.exitCode = 1;
  } finally {
    await peer.close();
    await removeDemoQueues();
    await s3.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** The demo's groups are throwaway: remove their queues so later broadcasts to `demo` don't pile up. */
async function removeDemoQueues(): Promise<void> {
  const peer = await Filepeer.connect({ logger: createLogger() });
  const channel = await peer.connection.createChannel();
  for (const group of Object.values(GROUPS)) {
    await channel.deleteQueue(groupQueueName(group, DOMAIN));
    await channel.deleteQueue(deadLetterQueueName(group));
  }
  await peer.close();
}

main().catch((err: unknown) => {
  console.error(err instanceof FilepeerError ? `demo: ${err.message}` : err);
  process.exit(1);
});
