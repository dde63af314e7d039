import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { STAGING_PREFIX } from '../../shared/sinks/s3.js';
import type { Readable } from 'node:stream';
import { DirectorySink, MemorySink, S3Sink, type ReceivedFile, type Location, type Sink } from '../../shared/index.js';
import { deleteGroup, drainDeadLetters, uniq, waitFor } from '../support/broker.js';
import { useWorld } from '../support/world.js';
import { pseudoRandomBlocks, pseudoRandomBuffer, sha256Of } from '../support/data.js';
import { createHash } from 'node:crypto';

const KiB = 1024;
const MiB = 1024 * KiB;
const BUCKET = 'received';

async function sha256OfStream(stream: Readable | AsyncIterable<Uint8Array>): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const piece of stream) {
    hash.update(piece);
    bytes += piece.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

describe('delivery to every sink, byte for byte', () => {
  const world = useWorld([BUCKET]);

  type SinkCase = { name: string; make: () => Sink };
  const sinks: SinkCase[] = [
    { name: 'memory', make: () => new MemorySink() },
    { name: 'directory', make: () => new DirectorySink({ root: world.root }) },
    { name: 's3', make: () => new S3Sink({ client: world.s3.client, bucket: BUCKET, prefix: 'in/' }) },
  ];

  /** What the receiver delivered, read back from wherever the sink put it. */
  async function readBack(location: Location): Promise<{ sha256: string; bytes: number }> {
    switch (location.kind) {
      case 'memory':
        return { sha256: sha256Of(location.data), bytes: location.data.length };
      case 'directory':
        return sha256OfStream(createReadStream(location.path));
      case 's3': {
        const out = await world.s3.client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
        return sha256OfStream(out.Body as Readable);
      }
    }
  }

  /** Broadcast `size` bytes with `chunkSize` to one group using `sink`; return what arrived. */
  async function roundTrip(sink: Sink, size: number, chunkSize: number, prefetch?: number): Promise<{ file: ReceivedFile; back: { sha256: string; bytes: number }; sent: string }> {
    const domain = uniq('deliver');
    const group = uniq('g');
    const files: ReceivedFile[] = [];
    const sub = await world.peer.subscribeToFiles(domain, { group, sink, prefetch }, (f) => {
      files.push(f);
    });
    try {
      const seed = size + chunkSize;
      const result = await world.peer.broadcastData(`file-${size}.bin`, pseudoRandomBlocks(size, seed), {
        domain,
        chunkSize,
        destination: `nested/dir/file-${size}-${chunkSize}.bin`,
        meta: { size, origin: 'test' },
      });
      const file = await waitFor('the file to be delivered', () => files[0], 120_000);
      assert.equal(result.bytes, size);
      assert.equal(result.chunks, Math.ceil(size / chunkSize));
      const back = await readBack(file.location);
      assert.equal(files.length, 1, 'delivered exactly once');
      assert.deepEqual(await drainDeadLetters(world.channel, group), []);
      return { file, back, sent: result.sha256 };
    } finally {
      await sub.close();
      await deleteGroup(world.channel, group, domain);
    }
  }

  const chunk = 16 * KiB;
  const shapes = [
    { name: 'an empty file', size: 0 },
    { name: 'a 1-byte file', size: 1 },
    { name: 'a file of exactly one chunk', size: chunk },
    { name: 'a file of one chunk and one byte', size: chunk + 1 },
  ];

  for (const s of sinks) {
    for (const shape of shapes) {
      it(`delivers ${shape.name} to the ${s.name} sink byte-identical`, async () => {
        const expected = sha256Of(pseudoRandomBuffer(shape.size, shape.size + chunk));
        const { file, back, sent } = await roundTrip(s.make(), shape.size, chunk);
        assert.equal(sent, expected, 'sender hashed what it sent');
        assert.equal(file.sha256, expected);
        assert.equal(file.size, shape.size);
        assert.deepEqual(back, { sha256: expected, bytes: shape.size });
        assert.deepEqual(file.meta, { size: shape.size, origin: 'test' });
        assert.equal(file.destination, `nested/dir/file-${shape.size}-${chunk}.bin`);
      });
    }

    it(`delivers a 100 MiB file to the ${s.name} sink byte-identical`, async () => {
      const size = 100 * MiB;
      const chunkSize = 1 * MiB;
      const expected = sha256Of(pseudoRandomBlocks(size, size + chunkSize));
      const { file, back } = await roundTrip(s.make(), size, chunkSize);
      assert.equal(file.sha256, expected);
      assert.deepEqual(back, { sha256: expected, bytes: size });
      assert.equal(file.chunks, 100);
    });
  }

  it('completes an S3 upload whose size is an exact multiple of the part size', async () => {
    const size = 16 * MiB;
    const expected = sha256Of(pseudoRandomBlocks(size, size + MiB));
    const sink = new S3Sink({ client: world.s3.client, bucket: BUCKET, partSize: 8 * MiB });
    const { back } = await roundTrip(sink, size, MiB);
    assert.deepEqual(back, { sha256: expected, bytes: size });
  });

  for (const size of [1 * MiB + 7, 12 * MiB + 7]) {
    it(`delivers ${size} bytes of 16 KiB chunks to S3 with a fixed prefetch of 8, staging fragments and cleaning them up`, async () => {
      const expected = sha256Of(pseudoRandomBlocks(size, size + chunk));
      const sink = new S3Sink({ client: world.s3.client, bucket: BUCKET, prefix: 'tiny/' });
      const { back } = await roundTrip(sink, size, chunk, 8);
      assert.deepEqual(back, { sha256: expected, bytes: size });
      const left = await world.s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `tiny/${STAGING_PREFIX}` }));
      assert.deepEqual(left.Contents ?? [], []);
    });
  }

  it('leaves no temp file behind in the directory sink', async () => {
    const leftovers: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) await walk(join(dir, entry.name));
        else if (entry.name.startsWith('.filepeer-')) leftovers.push(entry.name);
      }
    };
    await walk(world.root);
    assert.deepEqual(leftovers, []);
  });
});
