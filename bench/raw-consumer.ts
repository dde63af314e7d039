/**
 * Raw amqplib baseline, receiving side: a fresh durable queue, a prefetch comparable to
 * filepeer's receiver, one manual ack per message. Exits once `--bytes` bytes were acked.
 *
 *   node --import tsx bench/raw-consumer.ts --url … --queue … --bytes … --prefetch 8
 *
 * With `--durable-file PATH --sync-bytes N` it also does the work filepeer's contract requires of
 * a receiver, and nothing else: SHA-256 of the bytes, each message appended to PATH, an fsync
 * every N bytes, and a message acked only once fsynced (the "raw+durable" baseline).
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import * as amqp from 'amqplib';
import type { ConsumeMessage } from 'amqplib';
import { cpuSeconds, now, parseFlags, peakRssKiB, report, required } from './lib.js';

const flags = parseFlags(process.argv.slice(2));
const url = required(flags, 'url');
const queue = required(flags, 'queue');
const expected = Number(required(flags, 'bytes'));
const prefetch = Number(required(flags, 'prefetch'));
const durableFile = flags.get('durable-file');
const syncBytes = Number(flags.get('sync-bytes') ?? 8 * 1024 * 1024);

// Nagle off, as filepeer connects (shared/broker/connect.ts): the baselines get the same socket.
const connection = await amqp.connect(url, { noDelay: true });
connection.on('error', (err: Error) => console.error(`raw-consumer connection error: ${err.message}`));
const channel = await connection.createChannel();
await channel.deleteQueue(queue);
await channel.assertQueue(queue, { durable: true });
await channel.prefetch(prefetch);

const file: FileHandle | undefined = durableFile === undefined ? undefined : await open(durableFile, 'w');
const hash = file ? createHash('sha256') : undefined;
let held: ConsumeMessage[] = [];
let unsynced = 0;
let position = 0;

let bytes = 0;
let messages = 0;
let firstDeliveryAt = 0;
let resolveDone: (at: number) => void = () => undefined;
let rejectDone: (err: unknown) => void = () => undefined;
const done = new Promise<number>((resolve, reject) => {
  resolveDone = resolve;
  rejectDone = reject;
});

/** Durable mode: one delivery at a time, in order, like filepeer's receiver. */
let chain: Promise<void> = Promise.resolve();
async function durable(msg: ConsumeMessage): Promise<void> {
  const data = msg.content;
  hash!.update(data);
  for (let off = 0; off < data.length; ) {
    const { bytesWritten } = await file!.write(data, off, data.length - off, position + off);
    off += bytesWritten;
  }
  position += data.length;
  unsynced += data.length;
  held.push(msg);
  const last = bytes + data.length >= expected;
  if (unsynced >= syncBytes || last) {
    await file!.sync();
    for (const m of held) channel.ack(m);
    held = [];
    unsynced = 0;
  }
  bytes += data.length;
  if (last) resolveDone(now());
}

await channel.consume(
  queue,
  (msg) => {
    if (!msg) return;
    if (messages === 0) firstDeliveryAt = now();
    messages++;
    if (file) {
      chain = chain.then(() => durable(msg)).catch(rejectDone);
      return;
    }
    bytes += msg.content.length;
    channel.ack(msg);
    if (bytes >= expected) resolveDone(now());
  },
  { noAck: false },
);
const cpuStart = cpuSeconds();
report({ event: 'ready', role: 'raw-consumer' });
const lastAckAt = await done;
await file?.close();
await channel.close();
await connection.close();
report({
  event: 'result',
  role: 'raw-consumer',
  bytes,
  messages,
  firstDeliveryAt,
  lastAckAt,
  cpuStart,
  ...(hash ? { sha256: hash.digest('hex') } : {}),
  maxRssKiB: peakRssKiB(),
  cpuSeconds: cpuSeconds(),
});
