/**
 * Nanite-style sender: Nanite's file broadcast encoding (lib/nanite/streaming.rb with the JSON
 * serializer) — every packet one JSON document, the chunk's bytes in it as base64, 16 KiB chunks —
 * published with raw amqplib's delivery settings (persistent, confirm channel, the same window of
 * unconfirmed messages as filepeer, 'drain' respected). Nanite itself published without confirms
 * or persistence; with them, the comparison isolates the cost of the encoding.
 *
 *   node bench/nanite-publisher.ts --url … --queue … --file … [--chunk 16384]
 */
import { open } from 'node:fs/promises';
import * as amqp from 'amqplib';
import { Defaults } from '../shared/config/defaults.js';
import { cpuSeconds, now, parseFlags, peakRssKiB, report, required } from './lib.js';

const flags = parseFlags(process.argv.slice(2));
const url = required(flags, 'url');
const queue = required(flags, 'queue');
const file = required(flags, 'file');
const chunkSize = Number(flags.get('chunk') ?? 16384);
const token = 'b'.repeat(32);

// Nagle off, as filepeer connects (shared/broker/connect.ts): the baselines get the same socket.
const connection = await amqp.connect(url, { noDelay: true });
connection.on('error', (err: Error) => console.error(`nanite-publisher connection error: ${err.message}`));
const channel = await connection.createConfirmChannel();

let inFlight = 0;
let needsDrain = false;
let failure: unknown;
let wake: (() => void) | undefined;
const notify = (): void => {
  const w = wake;
  wake = undefined;
  w?.();
};
channel.on('drain', () => {
  needsDrain = false;
  notify();
});
channel.on('error', (err: Error) => {
  failure ??= err;
  notify();
});

/** One packet: JSON text, published persistent; waits while the confirm window is full. */
async function send(packet: unknown): Promise<void> {
  const body = Buffer.from(JSON.stringify(packet));
  while (needsDrain || inFlight >= Defaults.confirmWindowMessages) {
    if (failure) throw failure;
    await new Promise<void>((resolve) => (wake = resolve));
  }
  if (failure) throw failure;
  inFlight++;
  const ok = channel.publish('', queue, body, { persistent: true, contentType: 'application/json' }, (err: unknown) => {
    inFlight--;
    if (err) failure ??= err instanceof Error ? err : new Error('nacked');
    notify();
  });
  if (!ok) needsDrain = true;
}

const handle = await open(file, 'r');
const cpuStart = cpuSeconds();
const firstPublishAt = now();
let bytes = 0;
let messages = 0;
try {
  await send({ json_class: 'Nanite::FileStart', data: { filename: 'input.bin', dest: 'input.bin', token } });
  const buf = Buffer.allocUnsafe(chunkSize);
  for (;;) {
    const { bytesRead } = await handle.read(buf, 0, chunkSize, null);
    if (bytesRead === 0) break;
    await send({ json_class: 'Nanite::FileChunk', data: { chunk: buf.toString('base64', 0, bytesRead), token } });
    bytes += bytesRead;
    messages++;
  }
  await send({ json_class: 'Nanite::FileEnd', data: { token, meta: {} } });
  while (inFlight > 0) {
    if (failure) throw failure;
    await new Promise<void>((resolve) => (wake = resolve));
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
  role: 'nanite-publisher',
  bytes,
  messages,
  firstPublishAt,
  lastConfirmAt,
  cpuStart,
  maxRssKiB: peakRssKiB(),
  cpuSeconds: cpuSeconds(),
});
