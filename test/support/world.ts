import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Channel } from 'amqplib';
import type { Filepeer } from '../../shared/index.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../../shared/local/embedded-s3.js';
import { connectPeer, rawBroker } from './broker.js';

/** What an integration suite runs against: the real broker, a real S3 server, a scratch directory. */
export interface World {
  peer: Filepeer;
  s3: EmbeddedS3;
  /** A fresh temp directory, removed after the suite. */
  root: string;
  /** A plain amqplib channel for what tests do behind filepeer's back. */
  channel: Channel;
}

/** Set up a World before the suite's tests and tear it down after; fields are filled in by `before`. */
export function useWorld(buckets: readonly string[] = []): World {
  const world = {} as World;
  let closeRaw: (() => Promise<void>) | undefined;
  before(async () => {
    world.peer = await connectPeer();
    world.s3 = await startEmbeddedS3(buckets);
    world.root = await mkdtemp(join(tmpdir(), 'filepeer-test-'));
    const raw = await rawBroker();
    world.channel = raw.channel;
    closeRaw = raw.close;
  });
  after(async () => {
    await world.peer?.close();
    await world.s3?.close();
    if (world.root) await rm(world.root, { recursive: true, force: true });
    await closeRaw?.();
  });
  return world;
}
