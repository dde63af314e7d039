/**
 * filepeer receiving side: subscribes a group to a domain with a DirectorySink (or an S3Sink) and
 * exits after its callback has fired for `--files` verified files (default 1).
 *
 *   node bench/fp-receiver.ts --url … --domain … --group … --root DIR
 *   node bench/fp-receiver.ts --url … --domain … --group … --s3-endpoint URL --bucket B
 */
import { basename } from 'node:path';
import { DirectorySink, Filepeer, S3Sink, loadS3Client, type Location, type ReceivedFile, type Sink } from '../shared/index.js';
import { manifestDigest } from './data.js';
import { EMBEDDED_S3_CREDENTIALS } from './s3-credentials.js';
import { cpuSeconds, now, parseFlags, peakRssKiB, report, required } from './lib.js';

const flags = parseFlags(process.argv.slice(2));
const url = required(flags, 'url');
const domain = required(flags, 'domain');
const group = required(flags, 'group');
const files = Number(flags.get('files') ?? 1);
// Tuning knobs for experiments; the library's defaults when absent.
const syncBytes = flags.has('sync-bytes') ? Number(flags.get('sync-bytes')) : undefined;
const readAheadBytes = flags.has('read-ahead-bytes') ? Number(flags.get('read-ahead-bytes')) : undefined;

async function sinkFromFlags(): Promise<Sink> {
  const endpoint = flags.get('s3-endpoint');
  if (endpoint === undefined) return new DirectorySink({ root: required(flags, 'root'), syncBytes });
  // Loads the AWS SDK: a directory receiver never does.
  const client = await loadS3Client({ endpoint, credentials: EMBEDDED_S3_CREDENTIALS });
  return new S3Sink({ client, bucket: required(flags, 'bucket') });
}

const peer = await Filepeer.connect({ url });
const received: Array<ReceivedFile<Location>> = [];
let firstAt = 0;
let resolveDone: (at: number) => void = () => undefined;
const done = new Promise<number>((resolve) => (resolveDone = resolve));
const sub = await peer.subscribeToFiles(domain, { group, sink: await sinkFromFlags(), readAheadBytes }, (file) => {
  if (received.length === 0) firstAt = now();
  received.push(file);
  if (received.length === files) resolveDone(now());
});
const cpuStart = cpuSeconds();
report({ event: 'ready', role: 'fp-receiver', queue: sub.queue, deadLetterQueue: sub.deadLetterQueue });
const lastAt = await done;
await peer.close();
const first = received[0]!;
report({
  event: 'result',
  role: 'fp-receiver',
  firstCallbackAt: firstAt,
  callbackAt: lastAt,
  files: received.length,
  bytes: received.reduce((n, f) => n + f.size, 0),
  chunks: first.chunks,
  sha256: first.sha256,
  manifest: manifestDigest(received.map((f) => `${basename(f.destination)} ${f.sha256}\n`)),
  stats: sub.stats,
  cpuStart,
  maxRssKiB: peakRssKiB(),
  cpuSeconds: cpuSeconds(),
});
