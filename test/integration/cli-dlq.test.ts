import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { deadLetterQueueName, groupQueueName, routingKeyOf } from '../../shared/broker/topology.js';
import { Defaults } from '../../shared/config/defaults.js';
import { encodeChunk } from '../../shared/protocol/codec.js';
import { Header } from '../../shared/protocol/constants.js';
import { newToken } from '../../shared/protocol/token.js';
import { deleteGroup, injectPackets, queueExists, uniq, waitFor } from '../support/broker.js';
import { runCli, startCli, type CliProcess } from '../support/cli.js';
import { pseudoRandomBuffer, sha256Of } from '../support/data.js';
import { handMade } from '../support/packets.js';
import { useWorld } from '../support/world.js';

interface Replayed {
  replayed: number;
  byQueue: Record<string, number>;
  left: number;
  problems: string[];
}

describe('filepeer dlq replay and purge against the real broker', () => {
  const world = useWorld();

  const depth = async (queue: string): Promise<number> => (await world.channel.checkQueue(queue)).messageCount;

  async function receiver(group: string, domain: string, dir: string, ...extra: string[]): Promise<CliProcess> {
    const r = startCli(['receive', '-d', domain, '-g', group, '--to', dir, '--json', ...extra]);
    await waitFor(`${group} to bind its queue`, () => queueExists(world.peer.connection, groupQueueName(group, domain)), 20_000);
    return r;
  }

  it("replay puts a dead-lettered start back into its own group's queue only, with its routing key, and the receiver takes it", async () => {
    const domain = uniq('cli-replay');
    const [a, b] = [uniq('cli-a'), uniq('cli-b')];
    const [dirA, dirB] = [join(world.root, 'a'), join(world.root, 'b')];
    const queueA = groupQueueName(a, domain);
    const queueB = groupQueueName(b, domain);
    const data = pseudoRandomBuffer(40_000, 5);
    const transfer = handMade(data, { domain, chunkSize: 16_384, destination: 'blocked/x.bin' });
    // Group a's sink cannot create the directory `blocked` (a file is in the way): the start is
    // dead-lettered with reason `sink`, the rest of the transfer dropped. Group b has no such trouble.
    await mkdir(dirA, { recursive: true });
    await writeFile(join(dirA, 'blocked'), 'in the way');
    let recvA = await receiver(a, domain, dirA);
    const recvB = await receiver(b, domain, dirB, '--once', '1');
    try {
      await injectPackets(domain, [transfer.start, ...transfer.chunks, transfer.end]);
      assert.equal((await recvB.exited).code, 0, 'group b received the file');
      await waitFor('the dead letter', async () => (await depth(deadLetterQueueName(a))) === 1, 20_000);
      await waitFor('group a to drop the rest of the transfer', async () => (await depth(queueA)) === 0, 20_000);
      assert.equal((await recvA.stop()).code, 0);

      await rm(join(dirA, 'blocked'));
      const replayed = await runCli(['dlq', 'replay', '-g', a, '--reason', 'sink', '--json']);
      assert.equal(replayed.code, 0, replayed.stderr);
      assert.deepEqual(JSON.parse(replayed.stdout) as Replayed, { replayed: 1, byQueue: { [queueA]: 1 }, left: 0, problems: [] });
      assert.equal(await depth(deadLetterQueueName(a)), 0);
      assert.equal(await depth(queueA), 1, 'back in group a’s queue');
      assert.equal(await depth(queueB), 0, 'not re-broadcast to group b');

      // As the sender published it: its routing key, its protocol headers, none of the dead-letter ones.
      const back = await world.channel.get(queueA, { noAck: false });
      assert.ok(back);
      assert.equal(back.fields.routingKey, routingKeyOf(Defaults, domain));
      assert.equal(back.properties.type, 'file.start');
      const headers = back.properties.headers as Record<string, unknown>;
      assert.equal(headers[Header.Token], transfer.token);
      assert.equal(headers['x-filepeer-replays'], 1);
      assert.deepEqual(Object.keys(headers).filter((k) => k.startsWith('x-filepeer-dead-') || k === 'x-death'), []);
      world.channel.nack(back, false, true);

      // The receiver accepts the replayed start (a start whose routing key did not name its domain
      // would be dead-lettered again as malformed); the sender's retry of the rest completes the file.
      recvA = await receiver(a, domain, dirA, '--once', '1');
      await waitFor('the replayed start to be taken', async () => (await depth(queueA)) === 0, 20_000);
      await injectPackets(domain, [...transfer.chunks, transfer.end]);
      const done = await recvA.exited;
      assert.equal(done.code, 0, done.stderr);
      assert.equal(recvA.jsonLines<{ token: string }>()[0]!.token, transfer.token);
      assert.equal(sha256Of(await readFile(join(dirA, 'blocked/x.bin'))), sha256Of(data));
      assert.equal(await depth(deadLetterQueueName(a)), 0, 'and it was not dead-lettered again');

      const again = await runCli(['dlq', 'replay', '-g', a]);
      assert.equal(again.code, 0);
      assert.match(again.stdout, /^replayed 0, left 0/);
    } finally {
      await recvA.stop();
      await recvB.stop();
      await deleteGroup(world.channel, a, domain);
      await deleteGroup(world.channel, b, domain);
    }
  });

  it('purge refuses without --yes, deletes one transfer’s dead letters with --token, then the rest', async () => {
    const domain = uniq('cli-purge');
    const group = uniq('cli-p');
    const dlq = deadLetterQueueName(group);
    const recv = await receiver(group, domain, join(world.root, 'p'));
    try {
      const [t1, t2, t3] = [newToken(), newToken(), newToken()];
      await injectPackets(domain, [t1, t2, t3].map((t) => encodeChunk(t, 1, Buffer.from('stray'))));
      await waitFor('three dead letters', async () => (await depth(dlq)) === 3, 20_000);

      const refused = await runCli(['dlq', 'purge', '-g', group]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /add --yes/);
      assert.equal(await depth(dlq), 3, 'nothing deleted');

      const one = await runCli(['dlq', 'purge', '-g', group, '--token', t2, '--yes', '--json']);
      assert.equal(one.code, 0, one.stderr);
      assert.deepEqual(JSON.parse(one.stdout), { purged: 1, left: 2 });
      const listed = await runCli(['dlq', 'list', '-g', group, '--json']);
      const tokens = (JSON.parse(listed.stdout) as { letters: Array<{ token: string }> }).letters.map((l) => l.token);
      assert.deepEqual(tokens, [t1, t3], 'the others stay, in their order');

      const rest = await runCli(['dlq', 'purge', '-g', group, '--yes']);
      assert.equal(rest.code, 0, rest.stderr);
      assert.match(rest.stdout, /^purged 2, left 0$/m);
      assert.equal(await depth(dlq), 0);
    } finally {
      await recv.stop();
      await deleteGroup(world.channel, group, domain);
    }
  });
});
