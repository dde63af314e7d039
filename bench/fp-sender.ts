/**
 * filepeer sending side: one broadcastFile of `--file` on `--domain` at `--chunk` bytes per chunk
 * (the library's default chunk size when absent).
 *
 *   node bench/fp-sender.ts --url … --domain … --file … [--chunk 1048576]
 */
import { Filepeer } from '../shared/index.js';
import { cpuSeconds, now, parseFlags, peakRssKiB, report, required } from './lib.js';

const flags = parseFlags(process.argv.slice(2));
const url = required(flags, 'url');
const domain = required(flags, 'domain');
const file = required(flags, 'file');
const chunkSize = flags.has('chunk') ? Number(flags.get('chunk')) : undefined;

const peer = await Filepeer.connect({ url });
const cpuStart = cpuSeconds();
const startedAt = now();
const result = await peer.broadcastFile(file, { domain, chunkSize });
const confirmedAt = now();
await peer.close();
report({
  event: 'result',
  role: 'fp-sender',
  startedAt,
  confirmedAt,
  bytes: result.bytes,
  chunks: result.chunks,
  sha256: result.sha256,
  cpuStart,
  maxRssKiB: peakRssKiB(),
  cpuSeconds: cpuSeconds(),
});
