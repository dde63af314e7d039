import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile, readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DirectorySink, S3Sink, type ReceivedFile, type Sink } from '../../shared/index.js';
import { groupQueueName } from '../../shared/broker/topology.js';
import { connectPeer, deleteGroup, drainDeadLetters, injectPackets, uniq, waitFor } from '../support/broker.js';
import { useWorld } from '../support/world.js';
import { pseudoRandomBuffer, sha256Of } from '../support/data.js';
import { handMade, type HandMade } from '../support/packets.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 64 * KiB;
const BUCKET = 'resume';

describe('resuming a transfer another receiver of the group left unfinished', () => {
  const world = useWorld([BUCKET]);

  /**
   * Receiver A takes the start and the first `firstChunks` chunks and then stops (gracefully, or
   * its connection is cut as a crash would); receiver B of the same group gets the rest and must
   * finish the file from A's durable bytes and state, without the sender resending anything.
   */
  async function handOver(makeSink: () => Sink, firstChunks: number, how: 'close' | 'crash'): Promise<{ file: ReceivedFile; t: HandMade; resumed: number; calls: number }> {
    const domain = uniq('resume');
    const group = uniq('g');
    const t = handMade(pseudoRandomBuffer(150 * CHUNK + 123, 77), { domain, chunkSize: CHUNK, destination: 'resumed/file.bin' });
    const calls: ReceivedFile[] = [];
    const a = await connectPeer();
    const b = await connectPeer();
    try {
      const subA = await a.subscribeToFiles(domain, { group, sink: makeSink() }, (f) => void calls.push(f));
      await injectPackets(domain, [t.start, ...t.chunks.slice(0, firstChunks)]);
      await waitFor('A to take the first chunks', async () => {
        const { messageCount } = await world.channel.checkQueue(groupQueueName(group, domain));
        return messageCount === 0 && subA.stats.inFlight === 1;
      });
      // Let A make some of it durable before it goes.
      await new Promise((r) => setTimeout(r, 300));
      if (how === 'close') await subA.close();
      else await a.connection.close();

      const subB = await b.subscribeToFiles(domain, { group, sink: makeSink() }, (f) => void calls.push(f));
      await injectPackets(domain, [...t.chunks.slice(firstChunks), t.end]);
      const file = await waitFor('B to deliver the file', () => calls[0], 30_000);
      assert.deepEqual(await drainDeadLetters(world.channel, group), []);
      assert.equal(calls.length, 1, 'the handler ran once');
      return { file, t, resumed: subB.stats.transfersResumed, calls: calls.length };
    } finally {
      await a.close().catch(() => undefined);
      await b.close();
      await deleteGroup(world.channel, group, domain);
    }
  }

  for (const how of ['close', 'crash'] as const) {
    it(`directory sink: B resumes from A's fsynced bytes after A's ${how}`, async () => {
      const root = join(world.root, `dir-${how}`);
      const { file, t, resumed } = await handOver(() => new DirectorySink({ root, syncBytes: 1 * MiB }), 40, how);
      assert.equal(resumed, 1);
      assert.equal(file.sha256, sha256Of(t.data));
      assert.equal(sha256Of(await readFile(join(root, 'resumed/file.bin'))), sha256Of(t.data));
      const dir = await readdir(join(root, 'resumed'));
      assert.deepEqual(dir, ['file.bin'], 'no temp file left');
    });

    it(`S3 sink: B resumes the multipart upload from A's recorded parts after A's ${how}`, async () => {
      const prefix = `s3-${how}/`;
      const { file, t, resumed } = await handOver(() => new S3Sink({ client: world.s3.client, bucket: BUCKET, prefix, partSize: 5 * MiB }), 100, how);
      assert.equal(resumed, 1);
      assert.equal(file.sha256, sha256Of(t.data));
      const obj = await world.s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}resumed/file.bin` }));
      assert.equal(sha256Of(Buffer.from(await obj.Body!.transformToByteArray())), sha256Of(t.data));
      const staged = await world.s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}.filepeer/staging/` }));
      assert.deepEqual(staged.Contents ?? [], []);
    });
  }

  it('a file already delivered to the group is recognised when it is broadcast again, by another receiver', async () => {
    const domain = uniq('again');
    const group = uniq('g');
    const sink = (): Sink => new S3Sink({ client: world.s3.client, bucket: BUCKET, prefix: 'again/' });
    const t = handMade(pseudoRandomBuffer(3 * CHUNK, 5), { domain, chunkSize: CHUNK });
    const calls: string[] = [];
    const first = await connectPeer();
    const second = await connectPeer();
    try {
      const subA = await first.subscribeToFiles(domain, { group, sink: sink() }, (f) => void calls.push(`A ${f.token}`));
      await injectPackets(domain, [t.start, ...t.chunks, t.end]);
      await waitFor('first delivery', () => calls.length === 1);
      await subA.close();
      // A new process: its in-memory memory of finished tokens is empty; the sink's marker is not.
      const subB = await second.subscribeToFiles(domain, { group, sink: sink() }, (f) => void calls.push(`B ${f.token}`));
      await injectPackets(domain, [t.start, ...t.chunks, t.end]);
      await waitFor('the copy to be dropped', () => subB.stats.duplicatesDropped === 2 + t.chunks.length);
      assert.deepEqual(calls, [`A ${t.token}`]);
      assert.deepEqual(await drainDeadLetters(world.channel, group), []);
    } finally {
      await first.close();
      await second.close();
      await deleteGroup(world.channel, group, domain);
    }
  });
});
