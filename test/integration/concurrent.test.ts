import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DirectorySink, S3Sink, type Filepeer, type ReceivedFile } from '../../shared/index.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../../shared/local/embedded-s3.js';
import { Defaults } from '../../shared/config/defaults.js';
import { Header } from '../../shared/protocol/constants.js';
import { routingKeyOf } from '../../shared/broker/topology.js';
import { connectPeer, deleteGroup, drainDeadLetters, rawBroker, uniq, waitFor } from '../support/broker.js';
import { pseudoRandomBuffer, sha256Of } from '../support/data.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('concurrent broadcasts', () => {
  let peer: Filepeer;
  let s3: EmbeddedS3;
  let root: string;
  const raw = rawBroker();
  before(async () => {
    peer = await connectPeer();
    s3 = await startEmbeddedS3(['concurrent']);
    root = await mkdtemp(join(tmpdir(), 'filepeer-conc-'));
  });
  after(async () => {
    await peer.close();
    await s3.close();
    await rm(root, { recursive: true, force: true });
    await (await raw).close();
  });

  it('reassembles ten files broadcast at once, their chunks interleaved, into a directory and into S3', async () => {
    const domain = uniq('ten');
    const dirGroup = uniq('dir');
    const s3Group = uniq('s3');
    const { channel } = await raw;
    // A plain queue on the same binding records the order packets travel in.
    const spy = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(spy.queue, Defaults.exchange, routingKeyOf(Defaults, domain));

    const atDir: ReceivedFile[] = [];
    const atS3: ReceivedFile[] = [];
    const subs = [
      await peer.subscribeToFiles(domain, { group: dirGroup, sink: new DirectorySink({ root }) }, (f) => void atDir.push(f)),
      // Small parts so several S3 multipart uploads are open at once.
      await peer.subscribeToFiles(domain, { group: s3Group, sink: new S3Sink({ client: s3.client, bucket: 'concurrent', partSize: 5 * MiB }) }, (f) => void atS3.push(f)),
    ];
    try {
      const files = Array.from({ length: 10 }, (_, i) => ({ name: `file-${i}.bin`, data: pseudoRandomBuffer(6 * MiB + i * 1000, 500 + i) }));
      const results = await Promise.all(
        files.map((f) => peer.broadcastData(f.name, [f.data], { domain, chunkSize: 64 * KiB, destination: `ten/${f.name}` })),
      );
      await waitFor('10 files in the directory', () => atDir.length === 10, 60_000);
      await waitFor('10 files in S3', () => atS3.length === 10, 60_000);

      for (const [i, f] of files.entries()) {
        const expected = sha256Of(f.data);
        assert.equal(results[i]!.sha256, expected);
        const onDisk = await readFile(join(root, 'ten', f.name));
        assert.equal(sha256Of(onDisk), expected, `${f.name} on disk`);
        const obj = await s3.client.send(new GetObjectCommand({ Bucket: 'concurrent', Key: `ten/${f.name}` }));
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
    } finally {
      await Promise.all(subs.map((s) => s.close()));
      await deleteGroup(channel, dirGroup, domain);
      await deleteGroup(channel, s3Group, domain);
      await channel.deleteQueue(spy.queue);
    }
  });
});
