import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { STAGING_PREFIX } from '../../shared/sinks/s3.js';
import { DirectorySink, S3Sink, type ReceivedFile } from '../../shared/index.js';
import { Defaults } from '../../shared/config/defaults.js';
import { Header } from '../../shared/protocol/constants.js';
import { routingKeyOf } from '../../shared/broker/topology.js';
import { deleteGroup, drainDeadLetters, uniq, waitFor } from '../support/broker.js';
import { useWorld } from '../support/world.js';
import { pseudoRandomBuffer, sha256Of } from '../support/data.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('concurrent broadcasts', () => {
  const world = useWorld(['concurrent']);

  /** Objects left under the S3 sink's staging prefix (there must be none once transfers end). */
  async function stagedLeftovers(bucket: string): Promise<string[]> {
    const out = await world.s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: STAGING_PREFIX }));
    return (out.Contents ?? []).map((o) => o.Key ?? '');
  }

  const modes = [
    { name: 'a prefetch that follows the open transfers', prefetch: undefined },
    // What a RabbitMQ 4.3 broker forces: the S3 sink must stage fragments to keep going.
    { name: 'a small fixed prefetch', prefetch: 16 },
  ];
  for (const mode of modes) {
  it(`reassembles ten files broadcast at once, their chunks interleaved, into a directory and into S3, with ${mode.name}`, async () => {
    const domain = uniq('ten');
    const dirGroup = uniq('dir');
    const s3Group = uniq('s3');
    const { channel } = world;
    // A plain queue on the same binding records the order packets travel in.
    const spy = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(spy.queue, Defaults.exchange, routingKeyOf(Defaults, domain));

    let staged = 0;
    const countStaging = (event: { Records: Array<{ eventName: string; s3: { object: { key: string } } }> }): void => {
      for (const r of event.Records) if (r.eventName === 'ObjectCreated:Put' && r.s3.object.key.startsWith(STAGING_PREFIX)) staged++;
    };
    world.s3.server.on('event', countStaging);
    const atDir: ReceivedFile[] = [];
    const atS3: ReceivedFile[] = [];
    const subs = [
      await world.peer.subscribeToFiles(domain, { group: dirGroup, sink: new DirectorySink({ root: world.root }), prefetch: mode.prefetch }, (f) => void atDir.push(f)),
      // Small parts so several S3 multipart uploads are open at once.
      await world.peer.subscribeToFiles(domain, { group: s3Group, sink: new S3Sink({ client: world.s3.client, bucket: 'concurrent', partSize: 5 * MiB }), prefetch: mode.prefetch }, (f) => void atS3.push(f)),
    ];
    try {
      const files = Array.from({ length: 10 }, (_, i) => ({ name: `file-${i}.bin`, data: pseudoRandomBuffer(6 * MiB + i * 1000, 500 + i) }));
      const results = await Promise.all(
        files.map((f) => world.peer.broadcastData(f.name, [f.data], { domain, chunkSize: 64 * KiB, destination: `ten/${f.name}` })),
      );
      await waitFor('10 files in the directory', () => atDir.length === 10, 60_000);
      await waitFor('10 files in S3', () => atS3.length === 10, 60_000);

      for (const [i, f] of files.entries()) {
        const expected = sha256Of(f.data);
        assert.equal(results[i]!.sha256, expected);
        const onDisk = await readFile(join(world.root, 'ten', f.name));
        assert.equal(sha256Of(onDisk), expected, `${f.name} on disk`);
        const obj = await world.s3.client.send(new GetObjectCommand({ Bucket: 'concurrent', Key: `ten/${f.name}` }));
        assert.equal(sha256Of(Buffer.from(await obj.Body!.transformToByteArray())), expected, `${f.name} in S3`);
      }

      // Prove the transfers really were interleaved on the wire.
      const order: string[] = [];
      for (;;) {
        const msg = await channel.get(spy.queue, { noAck: true });
        if (!msg) break;
        order.push(String((msg.properties.headers as Record<string, unknown>)[Header.Token]));
      }
      const switches = order.filter((t, i) => i > 0 && t !== order[i - 1]).length;
      assert.ok(switches > 9, `packets of different files interleaved (${switches} switches between tokens)`);
      assert.deepEqual(await drainDeadLetters(channel, dirGroup), []);
      assert.deepEqual(await drainDeadLetters(channel, s3Group), []);
      assert.deepEqual(await stagedLeftovers('concurrent'), []);
      if (mode.prefetch !== undefined) assert.ok(staged > 0, 'the fixed prefetch made the S3 sink stage fragments');
    } finally {
      await Promise.all(subs.map((s) => s.close()));
      await deleteGroup(channel, dirGroup, domain);
      await deleteGroup(channel, s3Group, domain);
      await channel.deleteQueue(spy.queue);
      world.s3.server.off('event', countStaging);
    }
  });
  }
});
