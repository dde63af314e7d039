/**
 * NATS JetStream Object Store baseline (the `nats` client, default options: 128 KiB chunks,
 * file storage). `--op put` stores `--file` as object `--name`; `--op get` reads it back into
 * `--file`, fsyncs it and reports its SHA-256 — a verified copy, as filepeer's receiver makes.
 * A reader cannot start before the put has ended: the harness runs put, then get.
 *
 *   node bench/nats-objstore.ts --op put --servers 127.0.0.1:4222 --bucket B --name N --file IN
 *   node bench/nats-objstore.ts --op get --servers 127.0.0.1:4222 --bucket B --name N --file OUT
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { StorageType, connect } from 'nats';
import { cpuSeconds, now, parseFlags, peakRssKiB, report, required } from './lib.js';

const flags = parseFlags(process.argv.slice(2));
const op = required(flags, 'op');
const servers = required(flags, 'servers');
const bucket = required(flags, 'bucket');
const name = required(flags, 'name');
const file = required(flags, 'file');

const nc = await connect({ servers });
const os = await nc.jetstream().views.os(bucket, { storage: StorageType.File });
const cpuStart = cpuSeconds();
const startedAt = now();
let bytes = 0;
let sha256: string | undefined;
if (op === 'put') {
  // The client reads a web stream; a file stream converted is what a node program hands it.
  const source = Readable.toWeb(createReadStream(file, { highWaterMark: 128 * 1024 })) as ReadableStream<Uint8Array>;
  const info = await os.put({ name }, source as unknown as globalThis.ReadableStream<Uint8Array>);
  bytes = info.size;
} else if (op === 'get') {
  const result = await os.get(name);
  if (!result) throw new Error(`object ${name} not found in ${bucket}`);
  const out = await open(file, 'w');
  const hash = createHash('sha256');
  try {
    for await (const piece of result.data as unknown as AsyncIterable<Uint8Array>) {
      hash.update(piece);
      for (let off = 0; off < piece.length; ) {
        const { bytesWritten } = await out.write(piece, off, piece.length - off, bytes + off);
        off += bytesWritten;
      }
      bytes += piece.length;
    }
    const err = await result.error;
    if (err) throw err;
    await out.sync();
  } finally {
    await out.close();
  }
  sha256 = hash.digest('hex');
} else {
  throw new Error(`--op must be put or get, not ${op}`);
}
const endedAt = now();
await nc.drain();
report({
  event: 'result',
  role: `nats-${op}`,
  startedAt,
  endedAt,
  bytes,
  ...(sha256 ? { sha256 } : {}),
  cpuStart,
  maxRssKiB: peakRssKiB(),
  cpuSeconds: cpuSeconds(),
});
