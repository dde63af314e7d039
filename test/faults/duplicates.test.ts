/**
 * Issue 4, point 3: duplicates and order, against the real broker and s3rver.
 * (a) The same S3 ObjectCreated event delivered to the broadcast Lambda twice, then three times at
 *     once, with two receiver groups running the receive Lambda: one delivered file and one handler
 *     call per group and object version; the object's next version is delivered again.
 * (b) A receiver's connection closed mid-transfer (the broker requeues what it held unacked) while the
 *     sender's packets arrive twice: one file, byte-identical, one callback.
 * (c) A transfer's packets reordered within the window: handled, or failed explicitly (dead letter with
 *     a reason), never a wrong file on disk or in S3; the sender's retry then delivers it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { BroadcastRetryError, type RecordOutcome } from '../../shared/aws/broadcast-event.js';
import { groupQueueName } from '../../shared/broker/topology.js';
import { DirectorySink, S3Sink, type Location, type ReceivedFile } from '../../shared/index.js';
import { forwardS3Events } from '../../shared/local/s3-events.js';
import { connectPeer, deleteGroup, drainDeadLetters, injectPackets, uniq, waitFor, type DeadLetter } from '../support/broker.js';
import { pseudoRandomBuffer, sha256Of } from '../support/data.js';
import { useLambdas } from '../support/lambdas.js';
import { handMade } from '../support/packets.js';
import { recordedCalls } from '../support/recording-handler.js';
import { useWorld } from '../support/world.js';
import { recordTally } from './ledger.js';
import { REORDER_CASES, expectedDeadLetters } from './reorder-cases.js';
import { directoryLeftovers, s3Leftovers } from './support/leftovers.js';
import { digestFile, digestObject, type Digest } from './support/read-back.js';
import { directoryAndS3Receivers, probe, removeReceivers, type Receiver } from './support/receivers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const UPLOADS = 'dup-uploads';
const RECEIVED = 'dup-received';
const BUCKET = 'dup-sinks';
const HANDLER_MODULE = join(import.meta.dirname, '../support/recording-handler.ts');

/** Handler calls beyond one per (group, expected token), plus every call for a token not expected. */
function duplicateCalls(calls: ReadonlyArray<{ group: string; token: string }>, expectedTokens: readonly string[]): number {
  const seen = new Set<string>();
  let extra = 0;
  for (const c of calls) {
    const key = `${c.group} ${c.token}`;
    if (!expectedTokens.includes(c.token) || seen.has(key)) extra++;
    seen.add(key);
  }
  return extra;
}

const matches = (d: Digest | undefined, data: Buffer): boolean => d?.sha256 === sha256Of(data) && d.size === data.length;

describe('faults, duplicates and order', () => {
  const world = useWorld([UPLOADS, RECEIVED, BUCKET]);
  // 2.5 s idle before a receive run ends: time for a concurrent burst of broadcasts to start arriving.
  const { broadcast, receiveRun } = useLambdas(world, { received: RECEIVED, handlersModule: HANDLER_MODULE, idleExitMs: 2500 });

  describe('(a) duplicated S3 events, through the broadcast and receive Lambdas', () => {
    const tokenOf = (result: unknown): string => {
      const record: RecordOutcome | undefined = (result as { records: RecordOutcome[] }).records[0];
      if (!record?.ok || !record.token) throw new Error(`not broadcast: ${JSON.stringify(record)}`);
      return record.token;
    };

    it('an ObjectCreated event delivered twice, then three times at once: once per group and version, handler once; the next version is delivered again', async () => {
      const domain = uniq('dups3');
      const groups = [uniq('dupa'), uniq('dupb')];
      const key = `incoming/${domain}/object.bin`;
      const versions = [pseudoRandomBuffer(2 * MiB + 17, 11), pseudoRandomBuffer(MiB + 5, 12)] as const;
      // Real event records from s3rver, re-encoded as AWS sends them.
      const events: unknown[] = [];
      const stopForwarding = forwardS3Events(world.s3.server, UPLOADS, (e) => events.push(e));
      const upload = async (data: Buffer): Promise<unknown> => {
        const before = events.length;
        await world.s3.client.send(new PutObjectCommand({ Bucket: UPLOADS, Key: key, Body: data }));
        return waitFor('the ObjectCreated event', () => events[before]);
      };
      const readBack = (): Promise<Array<Digest | undefined>> => Promise.all(groups.map((g) => digestObject(world.s3.client, RECEIVED, `${g}/object.bin`)));
      const seen = { tokens: [] as string[][], files: [] as number[][], dropped: [] as number[][], v1: [] as Array<Digest | undefined>, v2: [] as Array<Digest | undefined>, stale: '', dead: [] as DeadLetter[] };
      let failure: unknown;
      try {
        for (const g of groups) await receiveRun(g, domain, 300); // declares each group's queue
        const e1 = await upload(versions[0]);
        // S3 delivers at least once: twice, one after the other, before any receiver runs.
        seen.tokens.push([tokenOf(await broadcast(e1)), tokenOf(await broadcast(e1))]);
        const first = [];
        for (const g of groups) first.push(await receiveRun(g, domain, 30_000));
        seen.files.push(first.map((r) => r.files));
        seen.v1 = await readBack();
        // Three at once, after both groups delivered it: new runs know it only from the sinks' done-markers.
        seen.tokens.push(await Promise.all([1, 2, 3].map(async () => tokenOf(await broadcast(e1)))));
        const second = [];
        for (const g of groups) second.push(await receiveRun(g, domain, 30_000));
        seen.files.push(second.map((r) => r.files));
        seen.dropped.push(second.map((r) => r.stats[0]!.duplicatesDropped));

        // The next version of the key: its ETag and sequencer make a new token. Three copies at once,
        // to receivers already running, then the first version's event once more, late.
        const e2 = await upload(versions[1]);
        const live = groups.map((g) => receiveRun(g, domain, 30_000));
        await waitFor('both receive runs to consume', async () => {
          const queues = await Promise.all(groups.map((g) => world.channel.checkQueue(groupQueueName(g, domain))));
          return queues.every((q) => q.consumerCount === 1);
        });
        seen.tokens.push(await Promise.all([1, 2, 3].map(async () => tokenOf(await broadcast(e2)))));
        // s3rver ignores If-Match, so this broadcasts the new bytes under the old token (the receivers'
        // done-markers drop them); AWS answers 412 and the handler asks Lambda to retry.
        seen.stale = await broadcast(e1).then(
          (r) => `broadcast again as ${tokenOf(r)}`,
          (err: unknown) => {
            if (err instanceof BroadcastRetryError) return 'refused, retryable';
            throw err;
          },
        );
        const third = await Promise.all(live);
        seen.files.push(third.map((r) => r.files));
        seen.dropped.push(third.map((r) => r.stats[0]!.duplicatesDropped));
        seen.v2 = await readBack();
        for (const g of groups) seen.dead.push(...(await drainDeadLetters(world.channel, g)));
      } catch (err) {
        failure = err;
      } finally {
        stopForwarding();
        for (const g of groups) await deleteGroup(world.channel, g, domain);
      }
      const [t1, t2] = [seen.tokens[0]?.[0] ?? '', seen.tokens[2]?.[0] ?? ''];
      const calls = recordedCalls().filter((c) => groups.includes(c.group));
      const verified = seen.v1.filter((d) => matches(d, versions[0])).length + seen.v2.filter((d) => matches(d, versions[1])).length;
      await recordTally({
        scenario: 'S3 ObjectCreated event broadcast 2× then 3× at once, next version 3× at once plus a late copy of the first, two groups via the receive Lambda',
        area: 'duplicates',
        filesSent: 2 * groups.length,
        filesVerified: verified,
        filesLost: 2 * groups.length - verified,
        duplicateHandlerCalls: duplicateCalls(calls, [t1, t2]),
      });
      if (failure !== undefined) throw failure;

      assert.deepEqual(seen.tokens.map((ts) => new Set(ts).size), [1, 1, 1], 'every copy of an event carries its version\'s token');
      assert.equal(seen.tokens[1]![0], t1);
      assert.notEqual(t2, t1, 'the next version is another token');
      assert.deepEqual(seen.files, [[1, 1], [0, 0], [1, 1]], 'files delivered per run and group');
      // Run 2: three copies of start, 3 chunks and end, all dropped. Run 3: two copies of 2 chunks + start
      // + end, plus the late copy when it went out.
      const late = seen.stale.startsWith('broadcast again') ? 4 : 0;
      assert.deepEqual(seen.dropped, [[15, 15], [8 + late, 8 + late]], `duplicates dropped per run (late event: ${seen.stale})`);
      assert.equal(verified, 4, 'each group got each version byte-identical');
      for (const g of groups) {
        for (const [t, data] of [[t1, versions[0]], [t2, versions[1]]] as const) {
          const mine = calls.filter((c) => c.group === g && c.token === t);
          assert.equal(mine.length, 1, `group ${g}, token ${t}: one handler call`);
          assert.deepEqual([mine[0]!.size, mine[0]!.sha256], [data.length, sha256Of(data)]);
        }
      }
      assert.equal(calls.length, 4);
      assert.deepEqual(seen.dead, []);
    });
  });

  describe('(b) redelivered messages', () => {
    const setups = [
      // Chunks of 64 KiB: the directory sink fsyncs every 16, the S3 sink uploads a part every 80.
      { name: 'directory', taken: 40, sink: (id: string) => new DirectorySink({ root: join(world.root, id), syncBytes: MiB }) },
      { name: 'S3', taken: 100, sink: (id: string) => new S3Sink({ client: world.s3.client, bucket: BUCKET, prefix: `${id}/`, partSize: 5 * MiB }) },
    ] as const;
    const FILE = 'redelivered/file.bin';
    /** The delivered copy and the leftovers, read back from where the sink keeps them. */
    const readBack = async (sink: DirectorySink | S3Sink): Promise<[Digest | undefined, string[]]> =>
      sink instanceof DirectorySink
        ? [await digestFile(join(sink.root, FILE)), await directoryLeftovers(sink, [FILE])]
        : [await digestObject(world.s3.client, BUCKET, `${sink.prefix}${FILE}`), await s3Leftovers(sink, world.s3.client, [FILE])];

    for (const setup of setups) {
      it(`${setup.name} sink: a receiver's connection closed mid-transfer, its unacked chunks requeued, every packet also sent twice: one file, byte-identical, one callback`, async () => {
        const domain = uniq('redeliver');
        const group = uniq('g');
        const id = uniq('redeliver');
        const queue = groupQueueName(group, domain);
        const t = handMade(pseudoRandomBuffer(150 * 64 * KiB + 123, 21), { domain, chunkSize: 64 * KiB, destination: FILE });
        const calls: ReceivedFile[] = [];
        const a = await connectPeer();
        const b = await connectPeer();
        const seen = { durableAtClose: -1, requeued: -1, resumed: -1, dropped: -1, copy: undefined as Digest | undefined, leftovers: [] as string[], dead: [] as DeadLetter[] };
        let failure: unknown;
        try {
          const subA = await a.subscribeToFiles<Location>(domain, { group, sink: setup.sink(id) }, (f) => void calls.push(f));
          await injectPackets(domain, [t.start, ...t.chunks.slice(0, setup.taken)]);
          // A has every packet so far, and what it made durable has stopped moving: the rest it holds unacked.
          let last = -1;
          seen.durableAtClose = await waitFor('A to take the first chunks and settle', async () => {
            const { messageCount } = await world.channel.checkQueue(queue);
            const durable = (await setup.sink(id).lookup(group, t.token))?.durableSeq ?? -1;
            const settled = messageCount === 0 && subA.stats.inFlight === 1 && durable > 0 && durable === last;
            last = durable;
            await new Promise((r) => setTimeout(r, 150));
            return settled && durable;
          });
          await a.connection.close();
          // What A held unacked goes back to the queue.
          seen.requeued = await waitFor('the broker to requeue A\'s unacked chunks', async () => {
            const { messageCount } = await world.channel.checkQueue(queue);
            return messageCount === setup.taken - seen.durableAtClose && messageCount;
          });
          const subB = await b.subscribeToFiles<Location>(domain, { group, sink: setup.sink(id) }, (f) => void calls.push(f));
          // The sender's packets again from the top (a retried broadcast), the rest each twice, the end twice.
          const rest = t.chunks.slice(setup.taken);
          await injectPackets(domain, [t.start, ...t.chunks.slice(0, setup.taken), ...rest.flatMap((c) => [c, c]), t.end, t.end]);
          const allDropped = 1 + t.chunks.length + 1;
          await waitFor('B to deliver and drop every copy', async () => calls.length > 0 && subB.stats.duplicatesDropped >= allDropped && (await world.channel.checkQueue(queue)).messageCount === 0, 30_000);
          await subB.close(); // waits for the done-marker of the delivery in hand
          seen.resumed = subB.stats.transfersResumed;
          seen.dropped = subB.stats.duplicatesDropped;
          [seen.copy, seen.leftovers] = await readBack(setup.sink(id));
          seen.dead = await drainDeadLetters(world.channel, group);
        } catch (err) {
          failure = err;
        } finally {
          await a.close().catch(() => undefined);
          await b.close();
          await deleteGroup(world.channel, group, domain);
        }
        const verified = matches(seen.copy, t.data) ? 1 : 0;
        await recordTally({
          scenario: `${setup.name} sink: connection closed mid-transfer (unacked chunks requeued) plus every packet duplicated`,
          area: 'duplicates',
          filesSent: 1,
          filesVerified: verified,
          filesLost: 1 - verified,
          duplicateHandlerCalls: Math.max(0, calls.length - 1),
        });
        if (failure !== undefined) throw failure;
        assert.ok(seen.requeued > 0, `the close left chunks ${seen.durableAtClose + 1}..${setup.taken} unacked, and the broker requeued them`);
        assert.equal(seen.resumed, 1, 'B resumed from A\'s durable bytes and state');
        assert.equal(seen.dropped, 1 + t.chunks.length + 1, 'the duplicate start, one copy of every chunk and the duplicate end were dropped');
        assert.equal(verified, 1, `the delivered copy is byte-identical: ${JSON.stringify(seen.copy)}`);
        assert.equal(calls.length, 1, 'one callback in all');
        assert.equal(calls[0]!.sha256, sha256Of(t.data));
        assert.deepEqual(seen.leftovers, []);
        assert.deepEqual(seen.dead, []);
      });
    }
  });

  describe('(c) reordered chunks within the window', () => {
    const domain = uniq('reorder');
    const receivers: Receiver[] = [];
    // 1 MiB chunks: the directory sink fsyncs every 2, the S3 sink uploads a part after chunk 5.
    before(async () => receivers.push(...(await directoryAndS3Receivers(world, BUCKET, domain, { syncBytes: 2 * MiB, partSize: 5 * MiB }))));
    after(() => removeReceivers(receivers, domain));
    /** What the receivers delivered so far, and should still have: probes and earlier cases' files. */
    const deliveredSoFar: string[] = [];
    const probeAll = (): Promise<boolean> => {
      const destination = `probes/probe-${deliveredSoFar.length + 1}.txt`;
      deliveredSoFar.push(destination);
      return probe(world.peer, receivers, domain, destination);
    };

    REORDER_CASES.forEach((rc, i) => {
      const outcome = rc.expect === 'delivered' ? 'delivered right' : `failed explicitly (${rc.expect.map(([r]) => r).join(', ')}), then retried in order`;
      it(`${rc.name}: ${outcome}, never a wrong file`, async () => {
        const destination = `reorder/case-${i + 1}.bin`;
        const t = handMade(pseudoRandomBuffer(8 * MiB - 1000, 30 + i), { domain, chunkSize: MiB, destination });
        const expectedDead = expectedDeadLetters(rc, t);
        const callsFor = (r: Receiver): number => r.delivered.filter((f) => f.token === t.token).length;
        await injectPackets(domain, rc.order(t));
        const served = await probeAll();
        const afterDisorder = await Promise.all(
          receivers.map(async (r) => ({ dead: await drainDeadLetters(world.channel, r.group), copy: await r.readBack(destination), calls: callsFor(r), leftovers: await r.leftovers(deliveredSoFar) })),
        );
        // Failed explicitly: the sender sends the whole transfer again, in order, with the same token.
        if (rc.expect !== 'delivered') await injectPackets(domain, [t.start, ...t.chunks, t.end]);
        deliveredSoFar.push(destination);
        const servedAgain = await probeAll();
        const final = await Promise.all(
          receivers.map(async (r) => ({ copy: await r.readBack(destination), calls: callsFor(r), dead: await drainDeadLetters(world.channel, r.group) })),
        );
        const refusedRight = afterDisorder.filter((s) => JSON.stringify(s.dead.map((d) => [d.reason, d.messageId])) === JSON.stringify(expectedDead) && s.copy === undefined && s.calls === 0).length;
        const verified = final.filter((s) => matches(s.copy, t.data)).length;
        await recordTally({
          scenario: `reordered: ${rc.name} → ${outcome} (directory and S3 receivers)`,
          area: 'duplicates',
          filesSent: receivers.length,
          filesVerified: verified,
          filesLost: receivers.length - verified,
          duplicateHandlerCalls: final.reduce((n, s) => n + Math.max(0, s.calls - 1), 0),
          badInputsTried: rc.expect === 'delivered' ? 0 : receivers.length,
          badInputsRefused: rc.expect === 'delivered' ? 0 : served ? refusedRight : 0,
        });
        assert.ok(served && servedAgain, 'both consumers still serve');
        receivers.forEach((r, k) => {
          const s = afterDisorder[k]!;
          assert.deepEqual(s.dead.map((d) => [d.reason, d.messageId]), expectedDead, `${r.name}: dead letters after the disordered transfer`);
          if (rc.expect === 'delivered') {
            assert.ok(matches(s.copy, t.data), `${r.name}: delivered right despite the disorder`);
          } else {
            assert.equal(s.copy, undefined, `${r.name}: no file visible at ${destination} after the failed transfer`);
            assert.equal(s.calls, 0, `${r.name}: no callback for the failed transfer`);
            assert.deepEqual(s.leftovers, [], `${r.name}: partial data, temp file, staged fragments and state removed`);
          }
          assert.ok(matches(final[k]!.copy, t.data), `${r.name}: the file is there, byte-identical`);
          assert.equal(final[k]!.calls, 1, `${r.name}: one callback`);
          assert.deepEqual(final[k]!.dead, [], `${r.name}: nothing dead-lettered by the retry or the duplicates`);
        });
      });
    });
  });
});
