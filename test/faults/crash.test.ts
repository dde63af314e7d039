/**
 * Issue 4, point 1: a receiver worker process SIGKILLed in the middle of a 500 MiB transfer, and a
 * second worker of the same group started after it, finish the file from the state the first one
 * persisted, without the sender sending anything again; the file is whole and verified, and the
 * domain handler runs once.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { DirectorySink, S3Sink, type Sink } from '../../shared/index.js';
import { EMBEDDED_S3_CREDENTIALS } from '../../shared/local/embedded-s3.js';
import { groupQueueName } from '../../shared/broker/topology.js';
import { newToken } from '../../shared/protocol/token.js';
import type { BroadcastResult } from '../../shared/producer/broadcast.js';
import { stateName, type PersistedTransfer } from '../../shared/sinks/state.js';
import { deleteGroup, drainDeadLetters, queueExists, uniq, waitFor, type DeadLetter } from '../support/broker.js';
import { pseudoRandomBlocks, sha256Of } from '../support/data.js';
import { useWorld } from '../support/world.js';
import { recordTally } from './ledger.js';
import { CALL_LOG_ENV, readCalls, type LoggedCall } from './support/call-log-handler.js';
import { NodeChild, childEnv, type Exit } from './support/child.js';
import { digestFile, digestObject, listFiles, listKeys, type Digest } from './support/read-back.js';
import { onObjectCreated } from './support/s3rver-events.js';
import { pollState } from './support/state-poll.js';

const MiB = 1024 * 1024;
const SIZE = 500 * MiB;
const SEED = 4242;
/** Kill once this much is durable: well into the file, well short of its end. */
const KILL_AT_DURABLE = 150 * MiB;
const BUCKET = 'crash';
const DESTINATION = 'crash/big.bin';
const WORKER = 'functions/worker/main.ts';
const HANDLER_MODULE = join(import.meta.dirname, 'support/call-log-handler.ts');

/** Where one scenario's worker delivers, and how the test reads back what the worker wrote there. */
interface Target {
  name: string;
  /** The worker's destination settings. */
  env: Record<string, string>;
  /** A sink on the same destination: the test reads the worker's persisted state through it. */
  sink: Sink;
  readBack(): Promise<Digest | undefined>;
  /** Anything the transfer left beside the delivered file and its done-marker. */
  leftovers(): Promise<string[]>;
  /**
   * Call `onWrite` right after each write of the transfer's state document completes, where the
   * store can tell (s3rver's events). Without it, the test polls.
   */
  stateWrites?(group: string, token: string, onWrite: () => void): () => void;
}

/** What the scenario observed; filled in as it goes, so a failure still leaves a tally. */
interface Facts {
  broadcast?: BroadcastResult;
  stateAtKill?: PersistedTransfer;
  firstExit?: Exit;
  firstDelivered: boolean;
  resumedLine?: Record<string, unknown>;
  delivered?: Digest;
  doneMarker?: PersistedTransfer;
  leftovers: string[];
  calls: LoggedCall[];
  deadLetters: DeadLetter[];
  secondExit?: Exit;
}

describe('crash-safe consumer: SIGKILL a worker mid 500 MiB, a second worker of the group finishes', () => {
  const world = useWorld([BUCKET]);
  let sourceSha256 = '';

  before(() => {
    // Computed from the generator the producer reads, independently of what the producer reports.
    sourceSha256 = sha256Of(pseudoRandomBlocks(SIZE, SEED));
  });

  async function scenario(t: TestContext, scenarioName: string, target: Target): Promise<void> {
    const domain = uniq('crash');
    const group = uniq('g');
    const token = newToken();
    const callLog = join(world.root, `${group}-calls.jsonl`);
    const env = childEnv({
      ...target.env,
      FILEPEER_GROUP: group,
      FILEPEER_DOMAINS: domain,
      FILEPEER_HANDLERS: JSON.stringify([{ pattern: '#', module: HANDLER_MODULE, export: 'handler' }]),
      [CALL_LOG_ENV]: callLog,
      // Info: the resumed worker's "transfer resumed" line is evidence this test reads.
      FILEPEER_LOG_LEVEL: 'info',
    });
    const facts: Facts = { firstDelivered: false, leftovers: [], calls: [], deadLetters: [] };
    const began = Date.now();
    let failure: unknown;
    const first = new NodeChild(WORKER, env);
    let second: NodeChild | undefined;
    let sending: Promise<BroadcastResult | Error> | undefined;
    try {
      await waitFor('the first worker to bind its queue', () => queueExists(world.peer.connection, groupQueueName(group, domain)), 30_000);
      // Sent once, from this process, generated as it goes: nothing of 500 MiB is held or written here.
      sending = world.peer
        .broadcastData('big.bin', pseudoRandomBlocks(SIZE, SEED), { domain, token, size: SIZE, destination: DESTINATION })
        .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));

      // Kill on evidence, not on a clock: the worker's own state says how much it has made durable.
      await untilDurable(target, group, token, KILL_AT_DURABLE, 60_000);
      facts.firstExit = await first.kill('SIGKILL');
      facts.firstDelivered = first.stdout.some((l) => l.includes('"delivered"'));
      // Read after the death: the last state the first worker wrote, which is all the second one has.
      facts.stateAtKill = await target.sink.lookup(group, token);
      t.diagnostic(`${target.name}: killed after ${((Date.now() - began) / 1000).toFixed(1)} s with ${mib(facts.stateAtKill?.durableBytes)} MiB durable`);

      second = new NodeChild(WORKER, env);
      const secondWorker = second;
      await secondWorker.line('the second worker to deliver the file', (l) => l['delivered'] === DESTINATION, 90_000);
      // The log is on stderr, the delivery line on stdout: two pipes, so wait for it rather than assume it came first.
      facts.resumedLine = await secondWorker.line('the second worker to log the resumption', (l) => l['msg'] === 'transfer resumed' && l['token'] === token, 5_000).catch(() => undefined);
      const sent = await sending;
      if (sent instanceof Error) throw sent;
      facts.broadcast = sent;
      facts.delivered = await target.readBack();
      // The worker prints its delivery line from the handler's callback, before it records the done-marker.
      facts.doneMarker = await waitFor('the done-marker', async () => {
        const s = await pollState(target.sink, group, token);
        return s?.phase === 'done' ? s : undefined;
      }, 10_000);
      facts.leftovers = await target.leftovers();
      facts.deadLetters = await drainDeadLetters(world.channel, group);
      facts.secondExit = await secondWorker.kill('SIGTERM');
      t.diagnostic(`${target.name}: delivered and checked ${((Date.now() - began) / 1000).toFixed(1)} s after the first worker started`);
    } catch (err) {
      failure = err;
      for (const [name, child] of [['first', first], ['second', second]] as const) {
        if (child) t.diagnostic(`${name} worker's last lines:\n${[...child.stdout, ...child.stderr].slice(-15).join('\n')}`);
      }
    } finally {
      await first.dispose();
      await second?.dispose();
      // A failed scenario must not leave a broadcast publishing into a deleted queue's place.
      await sending;
      await deleteGroup(world.channel, group, domain).catch(() => undefined);
    }

    // Read whatever happened, so that a failed scenario still counts its handler calls.
    facts.calls = await readCalls(callLog);
    const sent = sending !== undefined;
    const verified = facts.delivered?.size === SIZE && facts.delivered.sha256 === sourceSha256;
    await recordTally({
      scenario: scenarioName,
      area: 'crash',
      filesSent: sent ? 1 : 0,
      filesVerified: verified ? 1 : 0,
      filesLost: sent && !verified ? 1 : 0,
      duplicateHandlerCalls: Math.max(0, facts.calls.length - 1),
    });
    if (failure) throw failure;

    // The first worker really died mid-file, by SIGKILL, with part of the file durable and no delivery.
    assert.deepEqual(facts.firstExit, { code: null, signal: 'SIGKILL' });
    assert.equal(facts.firstDelivered, false);
    const atKill = facts.stateAtKill;
    assert.ok(atKill, 'the first worker persisted state');
    assert.equal(atKill.phase, 'receiving');
    assert.ok(atKill.durableBytes >= KILL_AT_DURABLE && atKill.durableBytes < SIZE, `durable at the kill: ${atKill.durableBytes}`);
    // The second worker took over from exactly that state, not from the start.
    assert.ok(facts.resumedLine, 'the second worker logged "transfer resumed"');
    assert.equal(facts.resumedLine['durableBytes'], atKill.durableBytes);
    assert.equal(facts.resumedLine['durableSeq'], atKill.durableSeq);
    // One broadcast, sent once: 500 chunks of 1 MiB, nothing resent.
    assert.equal(facts.broadcast?.chunks, SIZE / MiB);
    assert.equal(facts.broadcast?.sha256, sourceSha256);
    // The delivered copy, read back, is the source.
    assert.deepEqual(facts.delivered, { size: SIZE, sha256: sourceSha256 });
    assert.equal(facts.doneMarker?.phase, 'done');
    assert.deepEqual(facts.leftovers, []);
    // The handler ran once, in the second worker, for this file.
    assert.equal(facts.calls.length, 1);
    assert.deepEqual(
      { token: facts.calls[0]?.token, size: facts.calls[0]?.size, sha256: facts.calls[0]?.sha256, pid: facts.calls[0]?.pid },
      { token, size: SIZE, sha256: sourceSha256, pid: second?.pid },
    );
    assert.deepEqual(facts.deadLetters, []);
    assert.deepEqual(facts.secondExit, { code: 0, signal: null }, 'the second worker drains and exits cleanly');
  }

  it('directory sink', async (t) => {
    const root = join(world.root, 'dest');
    await mkdir(root, { recursive: true });
    await scenario(t, 'SIGKILL receiver mid 500 MiB, directory sink', {
      name: 'directory',
      env: { FILEPEER_DEST_DIR: root },
      sink: new DirectorySink({ root }),
      readBack: () => digestFile(join(root, DESTINATION)),
      // Only the file and its done-marker: no temp file, no state .tmp.
      leftovers: async () => (await listFiles(root)).filter((f) => f !== DESTINATION && !/^\.filepeer\/state\/[^/]+\/[0-9a-f]{32}\.json$/.test(f)),
    });
  });

  it('S3 sink (s3rver)', async (t) => {
    const prefix = 'received/';
    await scenario(t, 'SIGKILL receiver mid 500 MiB, S3 sink', {
      name: 's3',
      env: {
        FILEPEER_DEST_BUCKET: BUCKET,
        FILEPEER_DEST_PREFIX: prefix,
        FILEPEER_S3_ENDPOINT: world.s3.endpoint,
        // The worker's S3 client takes its credentials from the SDK's chain: the key pair s3rver accepts.
        AWS_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
      },
      sink: new S3Sink({ client: world.s3.client, bucket: BUCKET, prefix }),
      readBack: () => digestObject(world.s3.client, BUCKET, `${prefix}${DESTINATION}`),
      leftovers: async () => (await listKeys(world.s3.client, BUCKET, prefix)).filter((k) => k !== `${prefix}${DESTINATION}` && !k.startsWith(`${prefix}.filepeer/state/`)),
      stateWrites: (group, token, onWrite) => onObjectCreated(world.s3, (key) => key === `${prefix}${stateName(group, token)}`, onWrite),
    });
  });
});

/**
 * Resolves once the worker's persisted state says at least `bytes` are durable. Where the store
 * says when a state write completed, the state is read right then rather than on a timer: s3rver
 * can serve a read that races a write torn, or hang it for seconds (see pollState), and right
 * after a write the next one is a whole part upload away.
 */
function untilDurable(target: Target, group: string, token: string, bytes: number, timeoutMs: number): Promise<PersistedTransfer> {
  const what = `the first worker to make ${bytes / MiB} MiB durable`;
  const enough = async (): Promise<PersistedTransfer | undefined> => {
    const s = await pollState(target.sink, group, token);
    return s !== undefined && s.durableBytes >= bytes ? s : undefined;
  };
  const { stateWrites } = target;
  if (!stateWrites) return waitFor(what, enough, timeoutMs);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const stop = stateWrites(group, token, () => {
      void enough().then((s) => {
        if (!s) return;
        clearTimeout(timer);
        stop();
        resolve(s);
      });
    });
  });
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? '?' : (bytes / MiB).toFixed(0);
}
