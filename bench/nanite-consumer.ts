/**
 * Nanite-style receiver: each message is a JSON packet; a chunk's base64 is decoded and appended
 * to the file (Nanite wrote chunks as they came, without fsync), then acked. Exits at the
 * FileEnd packet with the SHA-256 of what it wrote.
 *
 *   node bench/nanite-consumer.ts --url … --queue … --file OUT --prefetch N
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import * as amqp from 'amqplib';
import type { ConsumeMessage } from 'amqplib';
import { cpuSeconds, now, parseFlags, peakRssKiB, report, required } from './lib.js';

interface NanitePacket {
  json_class: string;
  data: { chunk?: string };
}

const flags = parseFlags(process.argv.slice(2));
const url = required(flags, 'url');
const queue = required(flags, 'queue');
const out = required(flags, 'file');
const prefetch = Number(required(flags, 'prefetch'));

// Nagle off, as filepeer connects (shared/broker/connect.ts): the baselines get the same socket.
const connection = await amqp.connect(url, { noDelay: true });
connection.on('error', (err: Error) => console.error(`nanite-consumer connection error: ${err.message}`));
const channel = await connection.createChannel();
await channel.deleteQueue(queue);
await channel.assertQueue(queue, { durable: true });
await channel.prefetch(prefetch);

const file = await open(out, 'w');
const hash = createHash('sha256');
let bytes = 0;
let position = 0;
let resolveDone: (at: number) => void = () => undefined;
let rejectDone: (err: unknown) => void = () => undefined;
const done = new Promise<number>((resolve, reject) => {
  resolveDone = resolve;
  rejectDone = reject;
});

/** One packet at a time, in order, as Nanite's subscriber handled them. */
let chain: Promise<void> = Promise.resolve();
async function handle(msg: ConsumeMessage): Promise<void> {
  const packet = JSON.parse(msg.content.toString('utf8')) as NanitePacket;
  if (packet.json_class === 'Nanite::FileChunk' && packet.data.chunk !== undefined) {
    const data = Buffer.from(packet.data.chunk, 'base64');
    hash.update(data);
    for (let off = 0; off < data.length; ) {
      const { bytesWritten } = await file.write(data, off, data.length - off, position + off);
      off += bytesWritten;
    }
    position += data.length;
    bytes += data.length;
  }
  channel.ack(msg);
  if (packet.json_class === 'Nanite::FileEnd') {
    await file.close();
    resolveDone(now());
  }
}

await channel.consume(queue, (msg) => {
  if (msg) chain = chain.then(() => handle(msg)).catch(rejectDone);
}, { noAck: false });
const cpuStart = cpuSeconds();
report({ event: 'ready', role: 'nanite-consumer' });
const lastAckAt = await done;
await channel.close();
await connection.close();
report({
  event: 'result',
  role: 'nanite-consumer',
  bytes,
  lastAckAt,
  sha256: hash.digest('hex'),
  cpuStart,
  maxRssKiB: peakRssKiB(),
  cpuSeconds: cpuSeconds(),
});
