import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DirectorySink, MemorySink, S3Sink, type ReceivedFile, type Sink, type Subscription } from '../../shared/index.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../../shared/local/embedded-s3.js';
import { connectPeer, deleteGroup, drainDeadLetters, rawBroker, sleep, uniq, waitFor } from '../support/broker.js';
import { pseudoRandomBlocks, sha256Of } from '../support/data.js';
import { recordTally } from './ledger.js';
import { digestFile, digestObject } from './support/read-back.js';
import { amqpPortOpen, memoryAlarmOn, memoryWatermark, rabbitmqctl } from './support/rabbitmqctl.js';

const MiB = 1024 * 1024;
const BUCKET = 'broker-faults';
const FILES = 4;
const FILE_SIZE = 24 * MiB;
const CHUNK = 256 * 1024;
/** Pause per chunk: each file takes ~5 s to send, so a fault lands mid-broadcast. */
const PACE_MS = 50;

async function* paced(blocks: Iterable<Buffer>, ms: number): AsyncGenerator<Buffer> {
  for (const b of blocks) {
    yield b;
    await sleep(ms);
  }
}

type Fault = { name: string; inject: () => Promise<void> };

/**
 * Broker faults during transfers, on the real RabbitMQ: the broker closes every connection, or its
 * application is stopped and started again. Producer and receivers (three groups: directory, S3,
 * memory) must reconnect with backoff, republish what was unconfirmed, absorb the duplicates that
 * causes, and deliver every file verified, once per group.
 */
describe('broker faults: connections closed by the broker, broker restarted', () => {
  let s3: EmbeddedS3;
  let root: string;

  before(async () => {
    s3 = await startEmbeddedS3([BUCKET]);
    root = await mkdtemp(join(tmpdir(), 'filepeer-broker-faults-'));
  });
  after(async () => {
    await s3?.close();
    if (root) await rm(root, { recursive: true, force: true });
    // Whatever happened, leave the broker running for the next test.
    if (!(await amqpPortOpen())) await rabbitmqctl('start_app').catch(() => undefined);
  });

  const faults: Fault[] = [
    {
      name: 'rabbitmqctl close_all_connections, twice',
      inject: async () => {
        await rabbitmqctl('close_all_connections', 'filepeer fault test');
        await sleep(1500);
        await rabbitmqctl('close_all_connections', 'filepeer fault test, again');
      },
    },
    {
      name: 'rabbitmqctl stop_app, 3 s down, start_app',
      inject: async () => {
        await rabbitmqctl('stop_app');
        try {
          await sleep(3000);
        } finally {
          await rabbitmqctl('start_app');
        }
      },
    },
  ];

  for (const fault of faults) {
    it(`${fault.name}: every file delivered verified, once per group, nothing dead-lettered`, async (t) => {
      const domain = uniq('faults');
      const groups = [
        { group: uniq('dir'), sink: new DirectorySink({ root: join(root, domain) }) as Sink },
        { group: uniq('s3'), sink: new S3Sink({ client: s3.client, bucket: BUCKET, prefix: `${domain}/` }) as Sink },
        { group: uniq('mem'), sink: new MemorySink() as Sink },
      ];
      // A fast first retry keeps the test short; the cap is the library's default.
      const reconnect = { initialDelayMs: 100, maxDelayMs: 2000 };
      const receiver = await connectPeer({ reconnect });
      const producer = await connectPeer({ reconnect, reconnectTimeoutMs: 60_000 });
      const calls = new Map<string, ReceivedFile[]>(groups.map((g) => [g.group, []]));
      const subs: Subscription[] = [];
      const sources = Array.from({ length: FILES }, (_, i) => ({ name: `f${i}.bin`, seed: 1000 + i }));
      const expected = new Map(sources.map((s) => [`${domain}/${s.name}`, sha256Of(pseudoRandomBlocks(FILE_SIZE, s.seed))]));
      try {
        for (const g of groups) {
          subs.push(await receiver.subscribeToFiles(domain, { group: g.group, sink: g.sink }, (f) => void calls.get(g.group)!.push(f)));
        }
        let sent = 0;
        // The sender is paced so that the fault finds it mid-file too, with publishes unconfirmed.
        const broadcasts = sources.map((s) =>
          producer.broadcastData(s.name, paced(pseudoRandomBlocks(FILE_SIZE, s.seed, CHUNK), PACE_MS), {
            domain,
            destination: `${domain}/${s.name}`,
            chunkSize: CHUNK,
            size: FILE_SIZE,
            onProgress: () => (sent += CHUNK),
          }),
        );
        const settled = Promise.allSettled(broadcasts);
        // Strike mid-transfer: a third sent and every group has transfers open.
        await waitFor('transfers under way', () => sent >= (FILES * FILE_SIZE) / 3 && subs.every((s) => s.stats.inFlight > 0), 60_000);
        await fault.inject();

        const results = await settled;
        const rejected = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
        const republished = results.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value.republished : 0), 0);
        await waitFor('every group to deliver every file', () => [...calls.values()].every((c) => new Set(c.map((f) => f.token)).size >= FILES), 120_000)
          .catch(() => undefined);
        // Late duplicates would show up as extra calls: give them a moment to arrive.
        await sleep(500);

        let verified = 0;
        let duplicateCalls = 0;
        for (const g of groups) {
          const got = calls.get(g.group)!;
          duplicateCalls += got.length - new Set(got.map((f) => f.token)).size;
          for (const f of got) {
            const sha = await digestOf(f, s3);
            if (sha !== undefined && sha === expected.get(f.destination)) verified++;
          }
        }
        const filesSent = FILES * groups.length;
        const admin = await rawBroker();
        const dead: unknown[] = [];
        try {
          for (const g of groups) dead.push(...(await drainDeadLetters(admin.channel, g.group)));
        } finally {
          await admin.close();
        }
        await recordTally({ scenario: `broker fault: ${fault.name} (${FILES}×${FILE_SIZE / MiB} MiB, 3 groups)`, area: 'broker', filesSent, filesVerified: verified, filesLost: filesSent - verified, duplicateHandlerCalls: duplicateCalls });

        assert.deepEqual(rejected, [], 'every broadcast completed');
        assert.equal(verified, filesSent, 'every file delivered to every group, byte-identical');
        assert.equal(duplicateCalls, 0, 'one callback per file and group');
        assert.deepEqual(dead, [], 'nothing dead-lettered');
        for (const s of subs) assert.ok(s.stats.bindingsLost >= 1, `the ${s.group} subscription really lost its channel`);
        // Whether the fault finds publishes unconfirmed is up to timing (a graceful stop_app confirms what
        // it has read): the next test makes sure of it.
        t.diagnostic(`packets published again after the fault: ${republished}`);
        assert.ok(receiver.isOpen && producer.isOpen, 'both peers are usable after the fault');
      } finally {
        await producer.close();
        await receiver.close();
        await deleteGroups(groups.map((g) => g.group), domain);
      }
    });
  }

  it('publishes in doubt when the connection goes are published again: connections closed while a memory alarm holds confirms back', async (t) => {
    const domain = uniq('doubt');
    const group = uniq('g');
    const size = 32 * MiB;
    const receiver = await connectPeer();
    const producer = await connectPeer({ reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
    const watermark = await memoryWatermark();
    const calls: ReceivedFile[] = [];
    let result: { republished: number } | undefined;
    let failure: unknown;
    try {
      await receiver.subscribeToFiles(domain, { group, sink: new DirectorySink({ root: join(root, domain) }) }, (f) => void calls.push(f));
      let sent = 0;
      let broadcast: Promise<void> | undefined;
      try {
        // The alarm makes the broker stop reading the producer's socket: what it sent before the
        // 'blocked' notification stays unconfirmed, and then the connection is closed under it.
        await rabbitmqctl('set_vm_memory_high_watermark', '0.0001');
        await waitFor('the memory alarm', () => memoryAlarmOn(), 30_000);
        broadcast = producer
          .broadcastData('doubt.bin', pseudoRandomBlocks(size, 21, CHUNK), { domain, destination: 'doubt.bin', chunkSize: CHUNK, onProgress: (n) => (sent = n) })
          .then((r) => void (result = r), (err: unknown) => void (failure = err));
        // Blocked right after the start packet, whose confirm the broadcast awaits: it is in doubt now.
        await waitFor('the producer to be blocked', () => producer.connection.blocked, 30_000);
        t.diagnostic(`sent before the block: ${sent} bytes of chunks`);
        await rabbitmqctl('close_all_connections', 'filepeer fault test: publishes in doubt');
      } finally {
        await rabbitmqctl('set_vm_memory_high_watermark', watermark);
      }
      await broadcast;
      await waitFor('the file', () => calls[0], 60_000);
      const delivered = await digestFile(join(root, domain, 'doubt.bin'));
      const ok = failure === undefined && delivered?.sha256 === sha256Of(pseudoRandomBlocks(size, 21));
      await recordTally({ scenario: 'connections closed while a memory alarm held confirms back (publishes in doubt, 32 MiB)', area: 'broker', filesSent: 1, filesVerified: ok ? 1 : 0, filesLost: ok ? 0 : 1, duplicateHandlerCalls: Math.max(0, calls.length - 1) });

      assert.equal(failure, undefined, 'the broadcast completed');
      assert.ok((result?.republished ?? 0) > 0, 'the unconfirmed publishes were sent again on the new connection');
      assert.ok(ok, 'the file arrived byte-identical');
      assert.equal(calls.length, 1, 'once, the copies dropped');
    } finally {
      await rabbitmqctl('set_vm_memory_high_watermark', watermark).catch(() => undefined);
      await producer.close();
      await receiver.close();
      await deleteGroups([group], domain);
    }
  });

  it('a memory alarm blocks the producer: it pauses (no confirm timeout, bounded buffering) and finishes when the alarm clears', async () => {
    const domain = uniq('blocked');
    const group = uniq('g');
    const receiver = await connectPeer();
    // A confirm timeout far shorter than the alarm: pausing must stop its clock.
    const producer = await connectPeer({ confirmTimeoutMs: 1000 });
    const watermark = await memoryWatermark();
    const size = 64 * MiB;
    const calls: ReceivedFile[] = [];
    try {
      await receiver.subscribeToFiles(domain, { group, sink: new DirectorySink({ root: join(root, domain) }) }, (f) => void calls.push(f));
      await rabbitmqctl('set_vm_memory_high_watermark', '0.0001');
      let sent = 0;
      let broadcast: Promise<unknown> | undefined;
      let sentWhenBlocked = 0;
      let sentLater = 0;
      let failure: unknown;
      try {
        await waitFor('the memory alarm', () => memoryAlarmOn(), 30_000);
        broadcast = producer
          .broadcastData('big.bin', pseudoRandomBlocks(size, 9, CHUNK), { domain, destination: 'big.bin', chunkSize: CHUNK, onProgress: (n) => (sent = n) })
          .catch((err: unknown) => {
            failure = err;
          });
        await waitFor('the broker to block the producer', () => producer.connection.blocked, 30_000);
        await sleep(500);
        sentWhenBlocked = sent;
        // Several confirm timeouts long: a publisher that kept its clock running would fail now.
        await sleep(3000);
        sentLater = sent;
      } finally {
        await rabbitmqctl('set_vm_memory_high_watermark', watermark);
      }
      await broadcast;
      await waitFor('the file', () => calls[0], 60_000);
      const delivered = await digestFile(join(root, domain, 'big.bin'));
      const ok = delivered?.sha256 === sha256Of(pseudoRandomBlocks(size, 9));
      await recordTally({ scenario: 'broker memory alarm (connection.blocked) for 3.5 s during a 64 MiB broadcast', area: 'broker', filesSent: 1, filesVerified: ok ? 1 : 0, filesLost: ok ? 0 : 1, duplicateHandlerCalls: Math.max(0, calls.length - 1) });

      assert.equal(failure, undefined, 'the broadcast did not fail while blocked');
      assert.equal(sentLater, sentWhenBlocked, 'nothing more was handed to amqplib while blocked');
      // Buffered while blocked: at most the confirm window (16 MiB) and the chunk in hand.
      assert.ok(sentWhenBlocked <= 16 * MiB + CHUNK, `sent ${sentWhenBlocked} bytes before pausing`);
      assert.ok(sentWhenBlocked < size, 'the alarm struck before the file was sent');
      assert.ok(ok, 'the file arrived byte-identical');
      assert.equal(calls.length, 1);
    } finally {
      await rabbitmqctl('set_vm_memory_high_watermark', watermark).catch(() => undefined);
      await producer.close();
      await receiver.close();
      await deleteGroups([group], domain);
    }
  });
});

/** Remove the groups' queues on a connection of its own: the faults closed the peers' ones. */
async function deleteGroups(groups: readonly string[], domain: string): Promise<void> {
  const admin = await rawBroker();
  try {
    for (const group of groups) await deleteGroup(admin.channel, group, domain);
  } finally {
    await admin.close();
  }
}

/** SHA-256 of a delivered copy, read back from where the sink put it. */
async function digestOf(file: ReceivedFile, s3: EmbeddedS3): Promise<string | undefined> {
  const where = file.location;
  if (where.kind === 'memory') return sha256Of(where.data);
  if (where.kind === 'directory') return (await digestFile(where.path))?.sha256;
  return (await digestObject(s3.client, where.bucket, where.key))?.sha256;
}
