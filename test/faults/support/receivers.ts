import { join } from 'node:path';
import type { Filepeer } from '../../../shared/peer.js';
import type { ReceivedFile, Subscription } from '../../../shared/index.js';
import { DirectorySink } from '../../../shared/sinks/directory.js';
import { S3Sink } from '../../../shared/sinks/s3.js';
import type { Location, Sink } from '../../../shared/sinks/types.js';
import { deleteGroup, rawBroker, uniq, waitFor } from '../../support/broker.js';
import type { World } from '../../support/world.js';
import { directoryLeftovers, s3Leftovers } from './leftovers.js';
import { digestFile, digestObject, type Digest } from './read-back.js';

/** One receiver group subscribed for a fault scenario, and how the test reads back what it delivered. */
export interface Receiver {
  name: string;
  group: string;
  sub: Pick<Subscription, 'stats' | 'close'>;
  /** Every file its callback was handed, in order. */
  delivered: ReceivedFile[];
  /** The delivered copy at `destination`, read back from the sink's storage; undefined if not visible. */
  readBack(destination: string): Promise<Digest | undefined>;
  /** What it left beside `expected` destinations and done-markers (temp files, unfinished state, strays). */
  leftovers(expected: readonly string[]): Promise<string[]>;
}

async function subscribe<L extends Location>(peer: Filepeer, pattern: string, group: string, sink: Sink<L>): Promise<Pick<Receiver, 'sub' | 'delivered'>> {
  const delivered: ReceivedFile[] = [];
  const sub = await peer.subscribeToFiles(pattern, { group, sink }, (f) => void delivered.push(f));
  return { sub, delivered };
}

/**
 * Two receiver groups on `pattern`: one into a directory under the world's root, one into `bucket`
 * under a prefix of its own, each named after its group (so what lands outside them is a leak).
 */
export async function directoryAndS3Receivers(
  world: World,
  bucket: string,
  pattern: string,
  options: { syncBytes?: number; partSize?: number } = {},
): Promise<Receiver[]> {
  const dirGroup = uniq('fdir');
  const dir = new DirectorySink({ root: join(world.root, dirGroup), syncBytes: options.syncBytes });
  const s3Group = uniq('fs3');
  const s3 = new S3Sink({ client: world.s3.client, bucket, prefix: `${s3Group}/`, partSize: options.partSize });
  return [
    {
      name: 'directory',
      group: dirGroup,
      ...(await subscribe(world.peer, pattern, dirGroup, dir)),
      readBack: (dest) => digestFile(join(dir.root, dest)),
      leftovers: (expected) => directoryLeftovers(dir, expected),
    },
    {
      name: 'S3',
      group: s3Group,
      ...(await subscribe(world.peer, pattern, s3Group, s3)),
      readBack: (dest) => digestObject(world.s3.client, bucket, `${s3.prefix}${dest}`),
      leftovers: (expected) => s3Leftovers(s3, world.s3.client, expected),
    },
  ];
}

/** Close the receivers and delete their queues, on a connection of its own (the world's may be closed by now). */
export async function removeReceivers(receivers: readonly Receiver[], pattern: string): Promise<void> {
  const raw = await rawBroker();
  try {
    for (const r of receivers) {
      await r.sub.close();
      await deleteGroup(raw.channel, r.group, pattern);
    }
  } finally {
    await raw.close();
  }
}

/**
 * Broadcast a small file to `domain` and wait for every receiver to deliver it: proof that each
 * consumer still serves and, its queue being FIFO, has processed everything published before.
 * Resolves false (rather than throwing) if it never arrives, so the caller can record before asserting.
 */
export async function probe(peer: Filepeer, receivers: readonly Receiver[], domain: string, destination: string): Promise<boolean> {
  const name = destination.slice(destination.lastIndexOf('/') + 1);
  await peer.broadcastData(name, [Buffer.from(destination)], { domain, destination });
  return waitFor(`every receiver to deliver ${destination}`, () => receivers.every((r) => r.delivered.some((f) => f.destination === destination)), 20_000).then(
    () => true,
    () => false,
  );
}
