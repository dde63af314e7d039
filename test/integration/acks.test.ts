import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { DirectorySink, MemorySink, S3Sink, type ReceivedFile, type Sink } from '../../shared/index.js';
import { groupQueueName } from '../../shared/broker/topology.js';
import { deleteGroup, drainDeadLetters, injectPackets, sleep, uniq, waitFor } from '../support/broker.js';
import { useWorld } from '../support/world.js';
import { pseudoRandomBuffer, sha256Of } from '../support/data.js';
import { handMade } from '../support/packets.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 64 * KiB;

/** The broker's own count of a queue's ready and unacknowledged messages. */
async function queueCounts(queue: string): Promise<{ ready: number; unacked: number }> {
  const { stdout } = await promisify(execFile)('rabbitmqctl', ['list_queues', '-q', 'name', 'messages_ready', 'messages_unacknowledged', '--formatter', 'json']);
  const rows = JSON.parse(stdout) as Array<{ name: string; messages_ready: number; messages_unacknowledged: number }>;
  const row = rows.find((r) => r.name === queue);
  if (!row) throw new Error(`queue ${queue} not found`);
  return { ready: row.messages_ready, unacked: row.messages_unacknowledged };
}

/** Wait until the queue has nothing ready and its unacked count holds still for a moment. */
async function settledCounts(queue: string): Promise<{ ready: number; unacked: number }> {
  let last = '';
  return waitFor(`${queue} to settle`, async () => {
    const counts = await queueCounts(queue);
    const key = JSON.stringify(counts);
    const stable = counts.ready === 0 && key === last;
    last = key;
    if (!stable) await sleep(150);
    return stable ? counts : undefined;
  });
}

describe('acknowledgement follows durability', () => {
  const world = useWorld(['acks']);

  /**
   * Send the start and the first `firstChunks` chunks of a 200-chunk transfer, read how many the
   * receiver holds unacked, then send the rest and check the file arrives whole.
   */
  async function holdBack(sink: Sink, firstChunks: number): Promise<number> {
    const domain = uniq('acks');
    const group = uniq('g');
    const delivered: ReceivedFile[] = [];
    const sub = await world.peer.subscribeToFiles(domain, { group, sink }, (f) => void delivered.push(f));
    try {
      const t = handMade(pseudoRandomBuffer(200 * CHUNK, 42), { domain, chunkSize: CHUNK });
      await injectPackets(domain, [t.start, ...t.chunks.slice(0, firstChunks)]);
      const { unacked } = await settledCounts(groupQueueName(group, domain));
      assert.equal(delivered.length, 0);
      await injectPackets(domain, [...t.chunks.slice(firstChunks), t.end]);
      const file = await waitFor('the file', () => delivered[0]);
      assert.equal(file.sha256, sha256Of(t.data));
      assert.deepEqual(await settledCounts(groupQueueName(group, domain)), { ready: 0, unacked: 0 });
      assert.deepEqual(await drainDeadLetters(world.channel, group), []);
      return unacked;
    } finally {
      await sub.close();
      await deleteGroup(world.channel, group, domain);
    }
  }

  it('S3 sink: acks chunks only when their part is uploaded (80 chunks of 64 KiB per 5 MiB part)', async () => {
    const unacked = await holdBack(new S3Sink({ client: world.s3.client, bucket: 'acks', partSize: 5 * MiB }), 100);
    assert.equal(unacked, 20, 'chunks 81-100 wait for the second part');
  });

  it('directory sink: acks chunks only once fsynced (every 1 MiB = 16 chunks)', async () => {
    const unacked = await holdBack(new DirectorySink({ root: world.root, syncBytes: 1 * MiB }), 40);
    assert.equal(unacked, 8, 'chunks 33-40 are written but not yet fsynced');
  });

  it('memory sink: acks chunks as they arrive', async () => {
    const unacked = await holdBack(new MemorySink(), 40);
    assert.equal(unacked, 0);
  });

  it('abandons a transfer whose end never comes: partial file removed, held chunks released', async () => {
    const domain = uniq('idle');
    const group = uniq('g');
    const dir = join(world.root, 'idle');
    const delivered: ReceivedFile[] = [];
    const sub = await world.peer.subscribeToFiles(domain, { group, sink: new DirectorySink({ root: dir, syncBytes: 64 * MiB }), idleTimeoutMs: 8000 }, (f) => void delivered.push(f));
    try {
      const t = handMade(pseudoRandomBuffer(10 * CHUNK, 9), { domain, chunkSize: CHUNK, destination: 'partial.bin' });
      await injectPackets(domain, [t.start, ...t.chunks.slice(0, 3)]);
      assert.equal((await settledCounts(groupQueueName(group, domain))).unacked, 4, 'the start and the unsynced chunks are held until something is durable');
      assert.equal((await readdir(dir)).length, 1, 'the temp file');
      await waitFor('abandonment', () => sub.stats.transfersAbandoned === 1, 20_000);
      assert.deepEqual(await readdir(dir), [], 'partial data removed');
      assert.deepEqual(await settledCounts(groupQueueName(group, domain)), { ready: 0, unacked: 0 });
      assert.equal(sub.stats.inFlight, 0);
      // A straggler of the abandoned transfer is dropped, never delivered.
      await injectPackets(domain, [t.chunks[3]!, t.end]);
      await settledCounts(groupQueueName(group, domain));
      assert.deepEqual(delivered, []);
    } finally {
      await sub.close();
      await deleteGroup(world.channel, group, domain);
    }
  });
});
