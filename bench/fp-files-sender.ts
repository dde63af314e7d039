/**
 * filepeer sending side for many small files: broadcasts every file of `--dir` (to
 * `small/<name>`), `--concurrency` broadcasts at a time.
 *
 *   node bench/fp-files-sender.ts --url … --domain … --dir … [--concurrency 32]
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Filepeer } from '../shared/index.js';
import { cpuSeconds, now, parseFlags, peakRssKiB, report, required } from './lib.js';

const flags = parseFlags(process.argv.slice(2));
const url = required(flags, 'url');
const domain = required(flags, 'domain');
const dir = required(flags, 'dir');
const concurrency = Number(flags.get('concurrency') ?? 32);

const names = (await readdir(dir)).sort();
const peer = await Filepeer.connect({ url });
const cpuStart = cpuSeconds();
const startedAt = now();
let nextIndex = 0;
let bytes = 0;
async function worker(): Promise<void> {
  for (let i = nextIndex++; i < names.length; i = nextIndex++) {
    const name = names[i]!;
    const result = await peer.broadcastFile(join(dir, name), { domain, destination: `small/${name}` });
    bytes += result.bytes;
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
const confirmedAt = now();
await peer.close();
report({
  event: 'result',
  role: 'fp-files-sender',
  startedAt,
  confirmedAt,
  files: names.length,
  bytes,
  cpuStart,
  maxRssKiB: peakRssKiB(),
  cpuSeconds: cpuSeconds(),
});
