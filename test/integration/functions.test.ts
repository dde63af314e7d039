import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { encodeS3Key } from '../../shared/aws/s3-event.js';
import { objectToken } from '../../shared/aws/s3-object.js';
import { groupQueueName } from '../../shared/broker/topology.js';
import { queueExists, deleteGroup, drainDeadLetters, uniq, waitFor } from '../support/broker.js';
import { useWorld } from '../support/world.js';
import { pseudoRandomBuffer, sha256Of } from '../support/data.js';
import { recordedCalls } from '../support/recording-handler.js';
import { useLambdas } from '../support/lambdas.js';

const MiB = 1024 * 1024;
const UPLOADS = 'uploads';
const RECEIVED = 'received';
const HANDLER_MODULE = join(import.meta.dirname, '../support/recording-handler.ts');

/** The S3 notification AWS would send for a PUT: the key URL-encoded, spaces as `+`. */
function s3Event(key: string, size: number, eTag: string, sequencer: string): unknown {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: UPLOADS, arn: `arn:aws:s3:::${UPLOADS}` },
          object: { key: encodeS3Key(key), size, eTag, sequencer },
        },
      },
    ],
  };
}

describe('the Lambda handlers, invoked with real event shapes', () => {
  const world = useWorld([UPLOADS, RECEIVED]);
  const { broadcast, receiveRun } = useLambdas(world, { received: RECEIVED, handlersModule: HANDLER_MODULE });
  const prefix = uniq('fn');

  it('broadcasts an upload with an encoded key to two groups, each gets it once, byte-identical, and each runs the handler once', async () => {
    // The literal key of the issue: domain `global`, a space, a plus and a percent sign to encode.
    const domain = 'global';
    const groups = [`${prefix}-a`, `${prefix}-b`];
    const key = 'incoming/global/a b+c%.txt';
    const data = pseudoRandomBuffer(3 * MiB + 17, 3);
    try {
      // First runs declare the groups' queues (a broadcast nobody is bound to is refused).
      for (const g of groups) await receiveRun(g, domain, 300);
      const put = await world.s3.client.send(new PutObjectCommand({ Bucket: UPLOADS, Key: key, Body: data, Metadata: { colour: 'blue' } }));
      const eTag = put.ETag!.replace(/"/g, '');
      const event = s3Event(key, data.length, eTag, '0055AED6DCD90281E5');
      // Exactly what AWS puts in the record for this key.
      assert.equal((event as { Records: Array<{ s3: { object: { key: string } } }> }).Records[0]!.s3.object.key, 'incoming/global/a+b%2Bc%25.txt');
      const first = (await broadcast(event)) as { records: Array<{ ok: boolean; token: string; domain: string }> };
      assert.deepEqual(first.records.map((r) => [r.ok, r.domain]), [[true, domain]]);
      // S3 delivers at least once: the same event again is the same token, dropped by receivers.
      const again = (await broadcast(event)) as { records: Array<{ token: string }> };
      assert.equal(again.records[0]!.token, first.records[0]!.token);
      assert.equal(first.records[0]!.token, objectToken({ bucket: UPLOADS, key, eTag, sequencer: '0055AED6DCD90281E5', versionId: undefined }));

      for (const g of groups) {
        const report = await receiveRun(g, domain, 20_000);
        assert.equal(report.files, 1, `group ${g} delivered the file once`);
        const obj = await world.s3.client.send(new GetObjectCommand({ Bucket: RECEIVED, Key: `${g}/a b+c%.txt` }));
        assert.equal(sha256Of(Buffer.from(await obj.Body!.transformToByteArray())), sha256Of(data));
        assert.deepEqual(await drainDeadLetters(world.channel, g), []);
      }
      const calls = recordedCalls().filter((c) => c.domain === domain && groups.includes(c.group));
      assert.deepEqual(calls.map((c) => c.group).sort(), [...groups].sort(), 'one handler call per group');
      const call = calls[0]!;
      assert.equal(call.size, data.length);
      assert.equal(call.sha256, sha256Of(data));
      assert.equal(call.filename, 'a b+c%.txt');
      assert.deepEqual(call.source, { bucket: UPLOADS, key });
      assert.equal(call.meta['colour'], 'blue');
      assert.equal(call.bucket, RECEIVED);
    } finally {
      for (const g of groups) await deleteGroup(world.channel, g, domain);
    }
  });

  it('a receive run cut off by its time budget loses nothing, and the next run completes the transfer', async () => {
    const domain = uniq('budget');
    const group = `${prefix}-t`;
    const key = `incoming/${domain}/big.bin`;
    const data = pseudoRandomBuffer(64 * MiB, 9);
    try {
      await receiveRun(group, domain, 300);
      const put = await world.s3.client.send(new PutObjectCommand({ Bucket: UPLOADS, Key: key, Body: data }));
      const eTag = put.ETag!.replace(/"/g, '');
      await broadcast(s3Event(key, data.length, eTag, '0055AED6DCD9FF0001'));
      const queue = groupQueueName(group, domain);
      assert.ok((await world.channel.checkQueue(queue)).messageCount > 60, 'the whole file waits in the queue');

      // The Lambda's time runs out once the run has made part of the file durable (its state
      // document exists), long before it could finish: a cut in the middle, whatever the machine's speed.
      const stateKey = `${group}/.filepeer/state/${group}/${objectToken({ bucket: UPLOADS, key, eTag, sequencer: '0055AED6DCD9FF0001', versionId: undefined })}.json`;
      let outOfTime = false;
      const watch = setInterval(() => {
        void world.s3.client.send(new HeadObjectCommand({ Bucket: RECEIVED, Key: stateKey })).then(() => (outOfTime = true), () => undefined);
      }, 10);
      const cut = await receiveRun(group, domain, { getRemainingTimeInMillis: () => (outOfTime ? 0 : 60_000) }).finally(() => clearInterval(watch));
      assert.equal(cut.files, 0, 'the first run ran out of time mid-transfer');
      assert.equal(cut.stats[0]!.inFlight, 1);
      const left = (await world.channel.checkQueue(queue)).messageCount;
      assert.ok(left > 0 && left < 66, `part of the file was made durable and acked (${left} packets left)`);

      const next = await receiveRun(group, domain, 30_000);
      assert.equal(next.files, 1);
      assert.equal(next.stats[0]!.transfersResumed, 1, 'the second run resumed from the recorded state');
      const obj = await world.s3.client.send(new GetObjectCommand({ Bucket: RECEIVED, Key: `${group}/big.bin` }));
      assert.equal(sha256Of(Buffer.from(await obj.Body!.transformToByteArray())), sha256Of(data));
      assert.equal(recordedCalls().filter((c) => c.domain === domain).length, 1, 'the handler ran once');
      assert.deepEqual(await drainDeadLetters(world.channel, group), []);
    } finally {
      await deleteGroup(world.channel, group, domain);
    }
  });

  it('the worker process drains and exits 0 on SIGTERM, after delivering what it received', async () => {
    const domain = uniq('worker');
    const group = `${prefix}-w`;
    const dir = join(world.root, 'worker');
    const env = { ...process.env, FILEPEER_GROUP: group, FILEPEER_DOMAINS: domain, FILEPEER_DEST_DIR: dir, FILEPEER_DEST_BUCKET: '', FILEPEER_HANDLERS: '' };
    delete (env as Record<string, string | undefined>)['FILEPEER_DEST_BUCKET'];
    const child = spawn(process.execPath, ['--import', 'tsx', 'functions/worker/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor('the worker to bind its queue', () => queueExists(world.peer.connection, groupQueueName(group, domain)), 20_000);
      const data = pseudoRandomBuffer(2 * MiB, 4);
      await world.peer.broadcastData('w.bin', [data], { domain, destination: 'w/w.bin' });
      await waitFor('the worker to report the file', () => out.includes('"delivered":"w/w.bin"'), 20_000);
      assert.equal(sha256Of(await readFile(join(dir, 'w/w.bin'))), sha256Of(data));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
      await deleteGroup(world.channel, group, domain);
    }
  });
});
