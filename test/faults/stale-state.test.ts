import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { DirectorySink, S3Sink, type Sink } from '../../shared/index.js';
import { connectPeer, deleteGroup, injectPackets, sleep, uniq, waitFor } from '../support/broker.js';
import { useWorld } from '../support/world.js';
import { pseudoRandomBuffer } from '../support/data.js';
import { handMade } from '../support/packets.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BUCKET = 'stale';

/**
 * Nanite's "a lost FileEnd leaks state forever", in its hardest form: the receiver crashed after
 * every chunk it had was durable and acked, and the producer died too. No packet of the transfer
 * is left anywhere, so nothing will ever resume it; only its persisted state and partial data
 * remain. The group's next receiver must find and remove them — and must not while it cannot be
 * sure that no packet of the transfer is still to come.
 */
describe('stale transfer state left by a crashed receiver and a dead producer', () => {
  const world = useWorld([BUCKET]);

  const sinks: Array<{ name: string; make: (domain: string) => Sink; leftovers: (domain: string, token: string) => Promise<string[]> }> = [
    {
      name: 'directory',
      make: (domain) => new DirectorySink({ root: join(world.root, domain), syncBytes: MiB }),
      leftovers: async (domain, token) => {
        const found = await readdir(join(world.root, domain), { recursive: true }).catch(() => [] as string[]);
        return found.filter((f) => String(f).includes(token));
      },
    },
    {
      name: 'S3',
      make: (domain) => new S3Sink({ client: world.s3.client, bucket: BUCKET, prefix: `${domain}/`, partSize: 5 * MiB }),
      leftovers: async (domain) => {
        const out = await world.s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${domain}/` }));
        return (out.Contents ?? []).map((o) => o.Key ?? '');
      },
    },
  ];

  for (const s of sinks) {
    it(`${s.name} sink: removed by the group's next sole receiver once untouched for the idle timeout, not before`, async () => {
      const domain = uniq('stale');
      const group = uniq('g');
      const chunk = MiB;
      // 5 chunks of 1 MiB: one fsync (directory, every 1 MiB) or one 5 MiB part (S3) makes them all durable.
      const t = handMade(pseudoRandomBuffer(12 * chunk, 5), { domain, chunkSize: chunk, destination: 'lost/file.bin' });
      const sink = s.make(domain);
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
      const a = await connectPeer();
      try {
        const subA = await a.subscribeToFiles(domain, { group, sink }, () => undefined);
        await injectPackets(domain, [t.start, ...t.chunks.slice(0, 5)]);
        await waitFor('A to make 5 chunks durable', async () => (await sink.lookup(group, t.token))?.durableSeq === 5, 30_000);
        await waitFor('A to ack them', async () => subA.stats.inFlight === 1 && (await world.channel.checkQueue(`filepeer.${group}.${domain}`)).messageCount === 0);
        // A crashes (its connection goes without a goodbye) and the producer never sends the rest.
        await a.connection.close();
      } finally {
        await a.close();
      }
      assert.ok((await s.leftovers(domain, t.token)).length > 0, 'the crash left state and partial data behind');

      // A receiver whose idle timeout has not passed since the state was written leaves it alone.
      const patient = await connectPeer({ logger });
      try {
        const sub = await patient.subscribeToFiles(domain, { group, sink, idleTimeoutMs: 60_000 }, () => undefined);
        await sleep(1500);
        assert.equal(sub.stats.transfersAbandoned, 0);
        assert.ok((await sink.lookup(group, t.token)) !== undefined, 'state younger than the idle timeout is kept');
      } finally {
        await patient.close();
      }

      // The group's next receiver, alone on the queue, with an idle timeout that has now passed.
      const b = await connectPeer({ logger });
      try {
        const sub = await b.subscribeToFiles(domain, { group, sink, idleTimeoutMs: 1000 }, () => undefined);
        await waitFor('B to sweep the stale transfer', () => sub.stats.transfersAbandoned === 1, 15_000);
        assert.equal(await sink.lookup(group, t.token), undefined, 'the state is gone');
        assert.deepEqual(await s.leftovers(domain, t.token), [], 'no partial data, staging or state left');
        assert.ok(
          lines.some((l) => l.includes(t.token) && l.includes('stale transfer removed')),
          'a log line names the transfer',
        );
      } finally {
        await b.close();
        await deleteGroup(world.channel, group, domain);
      }
    });
  }

  it('a receiver that shares the queue with another consumer never sweeps: a packet may be in the other one\'s hands', async () => {
    const domain = uniq('stale');
    const group = uniq('g');
    const sink = new DirectorySink({ root: join(world.root, domain), syncBytes: MiB });
    const t = handMade(pseudoRandomBuffer(8 * MiB, 6), { domain, chunkSize: MiB, destination: 'kept.bin' });
    const a = await connectPeer();
    const other = await connectPeer();
    const b = await connectPeer();
    try {
      const subA = await a.subscribeToFiles(domain, { group, sink }, () => undefined);
      await injectPackets(domain, [t.start, ...t.chunks.slice(0, 2)]);
      await waitFor('A to make 2 chunks durable', async () => (await sink.lookup(group, t.token))?.durableSeq === 2, 30_000);
      await waitFor('A to ack them', () => subA.stats.inFlight === 1);
      await a.connection.close();
      // Another consumer of the group, active or waiting: the queue is not B's alone.
      await other.subscribeToFiles(domain, { group, sink: new DirectorySink({ root: join(world.root, `${domain}-other`) }), idleTimeoutMs: 60_000 }, () => undefined);
      const sub = await b.subscribeToFiles(domain, { group, sink, idleTimeoutMs: 500 }, () => undefined);
      await sleep(2500);
      assert.equal(sub.stats.transfersAbandoned, 0);
      assert.ok((await sink.lookup(group, t.token)) !== undefined, 'the state is kept');
    } finally {
      await a.close();
      await other.close();
      await b.close();
      await deleteGroup(world.channel, group, domain);
    }
  });
});
