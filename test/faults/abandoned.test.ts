/**
 * Issue 4, point 4: a transfer whose FileEnd never comes, because its producer process was
 * SIGKILLed mid-file, is abandoned by the receiver after its idle time: partial data and state
 * removed, nothing held, one clear warning, memory back to where it was; while another transfer on
 * the same subscription, open at the same time, completes unharmed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { DirectorySink, S3Sink, type ReceivedFile, type Sink } from '../../shared/index.js';
import { groupQueueName } from '../../shared/broker/topology.js';
import { DEFAULT_FIXED_PREFETCH } from '../../shared/consumer/prefetch.js';
import type { SubscriptionStats } from '../../shared/consumer/types.js';
import { newToken } from '../../shared/protocol/token.js';
import type { PersistedTransfer } from '../../shared/sinks/state.js';
import { STAGING_PREFIX } from '../../shared/sinks/s3.js';
import { deleteGroup, drainDeadLetters, injectPackets, uniq, waitFor, type DeadLetter } from '../support/broker.js';
import { pseudoRandomBlocks, pseudoRandomBuffer, sha256Of } from '../support/data.js';
import { handMade } from '../support/packets.js';
import { useWorld } from '../support/world.js';
import { recordTally } from './ledger.js';
import { NodeChild, childEnv, type Exit } from './support/child.js';
import { captureLogs } from './support/log-capture.js';
import { retainedBytes } from './support/memory.js';
import { digestFile, digestObject, listFiles, listKeys, type Digest } from './support/read-back.js';
import { onObjectCreated } from './support/s3rver-events.js';
import { pollState } from './support/state-poll.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const IDLE_MS = 4000;
/** The dead producer announces this much and would send it all if it were left alone. */
const DEAD_BYTES = 1024 * MiB;
/** Kill it once it has sent this much (and the receiver has made some of it durable). */
const KILL_AFTER_SENT = 48 * MiB;
const DURABLE_BEFORE_KILL = 24 * MiB;
/** The healthy transfer: sent slowly until the dead one is abandoned, then the rest at once. */
const HEALTHY_BYTES = 24 * MiB;
const HEALTHY_CHUNK = 256 * KiB;
/** Between its packets while it trickles: far below IDLE_MS, so it is never idle itself. */
const HEALTHY_TRICKLE_MS = 200;
const HEALTHY_SEED = 11;
const WARM_BYTES = 2 * MiB;
const WARM_SEED = 3;
/**
 * Retained memory after abandonment may exceed the baseline by this much. What must not stay is
 * what the dead transfer had: the directory receiver held its ~16 MiB of unsynced chunks while it
 * was open, and any retention that grows with the bytes received would be tens of MiB (48+ MiB came
 * in). What does stay is a one-time cost: measured after minus baseline was -0.3..+0.2 MiB for the
 * directory sink and +1.0..+1.4 MiB for S3, of which a heap-snapshot diff put 0.9 MiB in JIT code
 * compiled for paths that first got hot in the larger transfer, the rest in the S3 SDK's lazily
 * built schemas and two more pooled sockets; the same S3 round run again in the same process
 * retained +0.2 MiB. 4 MiB sits well above the one and well below the other.
 */
const MEMORY_MARGIN = 4 * MiB;
const BUCKET = 'abandoned';
const DEAD_DESTINATION = 'dead/abandoned.bin';
const DEAD_PRODUCER = 'test/faults/support/dead-producer.ts';

interface Target {
  name: string;
  sink: Sink;
  /** Dead producer's chunk size: the S3 scenario's is small so that fragments are staged. */
  deadChunkSize: number;
  prefetch?: number;
  readBack(destination: string): Promise<Digest | undefined>;
  /** Everything under the sink's root or prefix, to compare with what should be there. */
  everything(): Promise<string[]>;
  /** What must be there once the warm-up and the healthy file are delivered: files and done-markers. */
  expected(group: string, tokens: string[]): string[];
  /** Sink-specific evidence of the dead transfer's partial data, taken before it is abandoned. */
  partial(group: string, token: string): Promise<string[]>;
  /** What an open transfer visibly holds in memory here, at least (0: too little to assert on). */
  heldWhileOpen: number;
  /** Start recording the staged fragments the dead transfer creates; the returned function stops and tells. */
  watchStaging?(group: string, token: string): () => string[];
}

interface Facts {
  /** Broadcasts that completed (warm-up, healthy); the dead one never sent its file whole. */
  sent: number;
  delivered: ReceivedFile[];
  warm?: Digest;
  baseline?: number;
  whileOpen?: number;
  after?: number;
  killExit?: Exit;
  stateBeforeAbandon?: PersistedTransfer;
  partialBeforeAbandon: string[];
  statsAtAbandon?: SubscriptionStats;
  statsAfter?: SubscriptionStats;
  staged: string[];
  healthy?: Digest;
  left: string[];
  deadLetters: DeadLetter[];
}

describe('abandoned transfers: the producer is SIGKILLed mid-file, the receiver cleans up after the idle time', () => {
  const world = useWorld([BUCKET]);
  let healthySha256 = '';
  let warmSha256 = '';

  before(() => {
    healthySha256 = sha256Of(pseudoRandomBlocks(HEALTHY_BYTES, HEALTHY_SEED, HEALTHY_CHUNK));
    warmSha256 = sha256Of(pseudoRandomBlocks(WARM_BYTES, WARM_SEED));
  });

  /**
   * A 2 MiB file broadcast whole (`warm.bin`), and a 6 MiB transfer whose end never comes, injected
   * raw; resolves once `settled` says the receiver delivered the one and abandoned the other.
   */
  async function warmUp(domain: string, chunkSize: number, settled: () => boolean): Promise<void> {
    const unfinished = handMade(pseudoRandomBuffer(6 * MiB, 5), { domain, chunkSize, destination: 'dead/warm.bin' });
    await injectPackets(domain, [unfinished.start, ...unfinished.chunks]);
    await world.peer.broadcastData('warm.bin', pseudoRandomBlocks(WARM_BYTES, WARM_SEED), { domain, destination: 'warm.bin', chunkSize: HEALTHY_CHUNK });
    await waitFor('the warm-up file delivered and the warm-up transfer abandoned', settled, IDLE_MS * 4);
  }

  async function scenario(t: TestContext, scenarioName: string, target: Target): Promise<void> {
    const domain = uniq('abandoned');
    const group = uniq('g');
    const deadToken = newToken();
    const { logger, lines } = captureLogs();
    const facts: Facts = { sent: 0, delivered: [], partialBeforeAbandon: [], staged: [], left: [], deadLetters: [] };
    const stopWatching = target.watchStaging?.(group, deadToken);
    const sub = await world.peer.subscribeToFiles(
      domain,
      { group, sink: target.sink, idleTimeoutMs: IDLE_MS, prefetch: target.prefetch, logger },
      (f) => void facts.delivered.push(f),
    );
    let producer: NodeChild | undefined;
    let healthy: Promise<unknown> | undefined;
    let releaseHealthy = (): void => undefined;
    let failure: unknown;
    try {
      // Warm up: one small file delivered and one small transfer abandoned, both like the scenario's
      // (same chunk sizes, so fragments, parts and the abort path all run), before the baseline.
      // What is built on first use (the S3 SDK's serializers per command, the parsing of s3rver's
      // 405 to AbortMultipartUpload, compiled code) is then in the baseline and not mistaken for
      // retention: without this, the S3 receiver measured +2.0 MiB after abandoning 48 MiB and
      // +2.2 MiB after 120 MiB, a first-use cost that did not grow with the data (what is left of
      // it with the warm-up: see MEMORY_MARGIN).
      await warmUp(domain, target.deadChunkSize, () => facts.delivered.length === 1 && sub.stats.transfersAbandoned === 1);
      facts.sent++;
      facts.baseline = await retainedBytes();

      // The healthy transfer opens first and stays open, trickling, until the dead one is abandoned.
      const gate = new Promise<void>((r) => (releaseHealthy = r));
      let released = false;
      void gate.then(() => (released = true));
      async function* trickle(): AsyncGenerator<Buffer> {
        for (const block of pseudoRandomBlocks(HEALTHY_BYTES, HEALTHY_SEED, HEALTHY_CHUNK)) {
          yield block;
          if (!released) await Promise.race([gate, new Promise((r) => setTimeout(r, HEALTHY_TRICKLE_MS))]);
        }
      }
      healthy = world.peer.broadcastData('healthy.bin', trickle(), { domain, destination: 'healthy.bin', chunkSize: HEALTHY_CHUNK }).catch((err: unknown) => err);

      producer = new NodeChild(
        DEAD_PRODUCER,
        childEnv({
          FAULT_DOMAIN: domain,
          FAULT_TOKEN: deadToken,
          FAULT_DESTINATION: DEAD_DESTINATION,
          FAULT_BYTES: String(DEAD_BYTES),
          FAULT_CHUNK_SIZE: String(target.deadChunkSize),
          FAULT_PACE_MS: '40',
        }),
      );
      const dead = producer;
      await dead.line(`the producer to send ${KILL_AFTER_SENT / MiB} MiB`, (l) => typeof l['sent'] === 'number' && l['sent'] >= KILL_AFTER_SENT, 60_000);
      await waitFor('the receiver to make part of the dead transfer durable', async () => {
        const s = await pollState(target.sink, group, deadToken);
        return s !== undefined && s.durableBytes >= DURABLE_BEFORE_KILL;
      }, 30_000);
      facts.killExit = await dead.kill('SIGKILL');
      const sentAtKill = Math.max(...dead.jsonLines().map((l) => (typeof l['sent'] === 'number' ? l['sent'] : 0)));

      // Everything the dead producer got to the broker is now with the receiver.
      await waitFor('the queue to drain', async () => (await world.channel.checkQueue(groupQueueName(group, domain))).messageCount === 0);
      facts.whileOpen = await retainedBytes();
      // The receiver may still be flushing the last chunks it took: read as a poll, until it answers.
      facts.stateBeforeAbandon = await waitFor('the dead transfer\'s state', () => pollState(target.sink, group, deadToken), 5_000);
      facts.partialBeforeAbandon = await target.partial(group, deadToken);
      assert.equal(sub.stats.transfersAbandoned, 1, `the open-transfer measurement came too late (${IDLE_MS} ms idle time)`);
      t.diagnostic(`${target.name}: producer killed after ${sentAtKill / MiB} MiB sent; ${(facts.stateBeforeAbandon?.durableBytes ?? 0) / MiB} MiB durable; partial data: ${facts.partialBeforeAbandon.length} files/objects`);

      await waitFor('the dead transfer to be abandoned', () => sub.stats.transfersAbandoned === 2, IDLE_MS * 4);
      facts.statsAtAbandon = { ...sub.stats };
      releaseHealthy();
      const healthyOutcome = await healthy;
      if (healthyOutcome instanceof Error) throw healthyOutcome;
      facts.sent++;
      await waitFor('the healthy file', () => facts.delivered.length === 2, 30_000);
      facts.healthy = await target.readBack('healthy.bin');
      facts.warm = await target.readBack('warm.bin');
      await waitFor('nothing in flight', () => sub.stats.inFlight === 0);
      facts.after = await retainedBytes();
      facts.statsAfter = { ...sub.stats };
      facts.left = await target.everything();
      facts.deadLetters = await drainDeadLetters(world.channel, group);
      t.diagnostic(
        `${target.name}: retained after GC: baseline ${mib(facts.baseline)}, while open ${mib(facts.whileOpen)}, after ${mib(facts.after)} MiB`,
      );
    } catch (err) {
      failure = err;
      if (producer) t.diagnostic(`the dead producer's last lines:\n${[...producer.stdout, ...producer.stderr].slice(-10).join('\n')}`);
    } finally {
      releaseHealthy();
      facts.staged = stopWatching?.() ?? [];
      await producer?.dispose();
      await healthy;
      await sub.close();
      await deleteGroup(world.channel, group, domain).catch(() => undefined);
    }

    // The dead file is not counted: its producer never sent it whole, and removing it is the point.
    const verified = [facts.warm?.sha256 === warmSha256 && facts.warm.size === WARM_BYTES, facts.healthy?.sha256 === healthySha256 && facts.healthy.size === HEALTHY_BYTES].filter(Boolean).length;
    await recordTally({
      scenario: scenarioName,
      area: 'abandoned',
      filesSent: facts.sent,
      filesVerified: verified,
      filesLost: facts.sent - verified,
      // Callbacks beyond one per file (the dead transfer must have none at all).
      duplicateHandlerCalls: Math.max(0, facts.delivered.length - facts.sent),
    });
    if (failure) throw failure;

    // The producer died by SIGKILL, long before its announced end.
    assert.deepEqual(facts.killExit, { code: null, signal: 'SIGKILL' });
    assert.ok(producer && !producer.stdout.some((l) => l.includes('finished')));
    // There was partial data to clean up: durable state and the sink's partial file or objects.
    assert.equal(facts.stateBeforeAbandon?.phase, 'receiving');
    assert.ok((facts.stateBeforeAbandon?.durableBytes ?? 0) >= DURABLE_BEFORE_KILL);
    assert.notDeepEqual(facts.partialBeforeAbandon, []);
    if (target.watchStaging) assert.notDeepEqual(facts.staged, [], 'the dead transfer staged fragments (its cleanup is under test)');
    // Abandoned while the healthy transfer was still open beside it.
    assert.equal(facts.statsAtAbandon?.inFlight, 1, 'the healthy transfer was open when the dead one was abandoned');
    assert.equal(facts.statsAtAbandon?.filesDelivered, 1, 'only the warm-up had been delivered');
    // The dead transfer's data and state are gone: what is left is exactly the two delivered files and their done-markers.
    const deliveredTokens = facts.delivered.map((f) => f.token);
    assert.deepEqual(facts.left, target.expected(group, deliveredTokens).sort());
    assert.equal(await target.sink.lookup(group, deadToken), undefined);
    // State freed, counted, and said in one clear line.
    const s = facts.statsAfter;
    assert.deepEqual(
      { delivered: s?.filesDelivered, deadLettered: s?.deadLettered, failed: s?.transfersFailed, abandoned: s?.transfersAbandoned, resumed: s?.transfersResumed, inFlight: s?.inFlight },
      { delivered: 2, deadLettered: 0, failed: 0, abandoned: 2, resumed: 0, inFlight: 0 },
    );
    const warnings = lines.filter((l) => l['token'] === deadToken && l['reason'] === 'abandoned');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.['level'], 40, 'logged as a warning');
    assert.equal(warnings[0]?.['msg'], `transfer ${deadToken} had no packet for ${IDLE_MS} ms`);
    assert.ok(Number(warnings[0]?.['bytes']) >= DURABLE_BEFORE_KILL, 'the line says how much was received');
    assert.deepEqual(facts.deadLetters, []);
    // The healthy file (and the warm-up) are whole.
    assert.deepEqual(facts.healthy, { size: HEALTHY_BYTES, sha256: healthySha256 });
    assert.deepEqual(facts.warm, { size: WARM_BYTES, sha256: warmSha256 });
    assert.equal(facts.delivered[1]?.sha256, healthySha256);
    // Memory: the measurement sees what an open transfer holds, and after abandonment it is back to the baseline.
    assert.ok(facts.baseline !== undefined && facts.whileOpen !== undefined && facts.after !== undefined);
    assert.ok(
      facts.whileOpen >= facts.baseline + target.heldWhileOpen,
      `retained ${mib(facts.whileOpen)} MiB while open, baseline ${mib(facts.baseline)} MiB: expected +${target.heldWhileOpen / MiB} MiB at least`,
    );
    assert.ok(
      facts.after <= facts.baseline + MEMORY_MARGIN,
      `retained ${mib(facts.after)} MiB after abandonment, baseline ${mib(facts.baseline)} MiB (+${MEMORY_MARGIN / MiB} MiB allowed)`,
    );
  }

  it('directory sink', async (t) => {
    const root = join(world.root, 'dest');
    const sink = new DirectorySink({ root, syncBytes: 32 * MiB });
    const marker = (group: string, token: string): string => `.filepeer/state/${group}/${token}.json`;
    await scenario(t, 'producer SIGKILLed mid-file, directory sink: abandoned after idle time', {
      name: 'directory',
      // fsync every 32 MiB: the open transfer holds up to 32 MiB of chunks in memory, so a leak of
      // it could not hide under the memory margin, and it has both a partial file and a state sidecar.
      sink,
      deadChunkSize: MiB,
      // Killed at 48 MiB, last fsync at 32 MiB: the receiver holds ~16 MiB of the dead transfer's chunks.
      heldWhileOpen: 8 * MiB,
      readBack: (destination) => digestFile(join(root, destination)),
      everything: () => listFiles(root),
      expected: (group, tokens) => ['warm.bin', 'healthy.bin', ...tokens.map((tk) => marker(group, tk))],
      partial: async (group, token) => (await listFiles(root)).filter((f) => f.includes(token)),
    });
  });

  it('S3 sink (s3rver)', async (t) => {
    const prefix = 'received/';
    const sink = new S3Sink({ client: world.s3.client, bucket: BUCKET, prefix, partSize: 8 * MiB });
    await scenario(t, 'producer SIGKILLed mid-file, S3 sink: abandoned after idle time', {
      name: 's3',
      sink,
      // A fixed prefetch (what a receiver uses on RabbitMQ 4.3+) of 128 KiB chunks holds at most
      // 4 MiB: below S3's 5 MiB part minimum, so the receiver must stage fragments before each part.
      // The dead transfer then has an upload with parts, a state document and staged fragments.
      deadChunkSize: 128 * KiB,
      prefetch: DEFAULT_FIXED_PREFETCH,
      // At most 32 chunks of 128 KiB: too little above the noise to assert on.
      heldWhileOpen: 0,
      readBack: (destination) => digestObject(world.s3.client, BUCKET, `${prefix}${destination}`),
      everything: () => listKeys(world.s3.client, BUCKET, prefix),
      expected: (group, tokens) => [`${prefix}warm.bin`, `${prefix}healthy.bin`, ...tokens.map((tk) => `${prefix}.filepeer/state/${group}/${tk}.json`)],
      partial: async (group, token) => (await listKeys(world.s3.client, BUCKET, prefix)).filter((k) => k.includes(token)),
      watchStaging: (group, token) => {
        const staging = `${prefix}${STAGING_PREFIX}${group}/${token}/`;
        const seen: string[] = [];
        const stop = onObjectCreated(world.s3, (key) => key.startsWith(staging), (key) => seen.push(key));
        return () => {
          stop();
          return seen;
        };
      },
    });
  });
});

function mib(bytes: number | undefined): string {
  return bytes === undefined ? '?' : (bytes / MiB).toFixed(1);
}
