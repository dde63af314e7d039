/**
 * Raw amqplib baseline, sending side: reads the file in chunks and publishes each as a persistent
 * message on a confirm channel, keeping at most filepeer's default window of unconfirmed messages
 * (count and bytes) in flight and waiting for 'drain' whenever publish() returns false.
 *
 *   node --import tsx bench/raw-publisher.ts --url … --queue … --file … --chunk 1048576
 *
 * With `--hash` it also computes the SHA-256 of what it sends (as filepeer's sender must).
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import * as amqp from 'amqplib';
import { Defaults } from '../shared/config/defaults.js';
import { cpuSeconds, now, parseFlags, peakRssKiB, report, required } from './lib.js';

const flags = parseFlags(process.argv.slice(2));
const url = required(flags, 'url');
const queue = required(flags, 'queue');
const file = required(flags, 'file');
const chunkSize = Number(required(flags, 'chunk'));
const windowMessages = Number(flags.get('window-messages') ?? Defaults.confirmWindowMessages);
const windowBytes = Number(flags.get('window-bytes') ?? Defaults.confirmWindowBytes);
const hash = flags.has('hash') ? createHash('sha256') : undefined;

// Nagle off, as filepeer connects (shared/broker/connect.ts): the baselines get the same socket.
const connection = await amqp.connect(url, { noDelay: true });
connection.on('error', (err: Error) => console.error(`raw-publisher connection error: ${err.message}`));
const channel = await connection.createConfirmChannel();

let inFlight = 0;
let inFlightBytes = 0;
let needsDrain = false;
let failure: unknown;
let wake: (() => void) | undefined;
const notify = (): void => {
  const w = wake;
  wake = undefined;
  w?.();
};
const waitForChange = (): Promise<void> => new Promise((resolve) => (wake = resolve));
channel.on('drain', () => {
  needsDrain = false;
  notify();
});
channel.on('error', (err: Error) => {
  failure ??= err;
  notify();
});

const handle = await open(file, 'r');
const cpuStart = cpuSeconds();
let bytes = 0;
let messages = 0;
let firstPublishAt = 0;
try {
  for (;;) {
    const buf = Buffer.allocUnsafe(chunkSize);
    let filled = 0;
    while (filled < chunkSize) {
      const { bytesRead } = await handle.read(buf, filled, chunkSize - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled === 0) break;
    const content = filled === chunkSize ? buf : buf.subarray(0, filled);
    hash?.update(content);
    while (needsDrain || (inFlight > 0 && (inFlight >= windowMessages || inFlightBytes + content.length > windowBytes))) {
      if (failure) throw failure;
      await waitForChange();
    }
    if (failure) throw failure;
    if (messages === 0) firstPublishAt = now();
    inFlight++;
    inFlightBytes += content.length;
    const size = content.length;
    const ok = channel.publish('', queue, content, { persistent: true }, (err: unknown) => {
      inFlight--;
      inFlightBytes -= size;
      if (err) failure ??= err instanceof Error ? err : new Error('nacked');
      notify();
    });
    if (!ok) needsDrain = true;
    messages++;
    bytes += content.length;
    if (filled < chunkSize) break;
  }
  while (inFlight > 0) {
    if (failure) throw failure;
    await waitForChange();
  }
  if (failure) throw failure;
} finally {
  await handle.close();
}
const lastConfirmAt = now();
await channel.close();
await connection.close();
report({
  event: 'result',
  role: 'raw-publisher',
  bytes,
  messages,
  firstPublishAt,
  lastConfirmAt,
  cpuStart,
  ...(hash ? { sha256: hash.digest('hex') } : {}),
  maxRssKiB: peakRssKiB(),
  cpuSeconds: cpuSeconds(),
});
