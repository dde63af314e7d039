import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemorySink, type ReceivedFile } from '../../shared/index.js';
import { connectPeer, deleteGroup, drainDeadLetters, uniq, waitFor } from '../support/broker.js';
import { useWorld } from '../support/world.js';
import { pseudoRandomBuffer, sha256Of } from '../support/data.js';

const CHUNK = 4 * 1024;

describe('receiver groups and domains', () => {
  const world = useWorld();

  it('gives every group its own copy of every file', async () => {
    const domain = uniq('fanout');
    const groups = [uniq('ga'), uniq('gb')];
    const received = new Map<string, ReceivedFile[]>(groups.map((g) => [g, []]));
    const subs = await Promise.all(
      groups.map((group) => world.peer.subscribeToFiles(domain, { group, sink: new MemorySink() }, (f) => void received.get(group)!.push(f))),
    );
    try {
      const sent = [];
      for (let i = 0; i < 3; i++) {
        const data = pseudoRandomBuffer(10 * CHUNK + i, i + 7);
        sent.push(await world.peer.broadcastData(`f${i}.bin`, [data], { domain, chunkSize: CHUNK }));
      }
      for (const group of groups) {
        const files = await waitFor(`group ${group} to get 3 files`, () => (received.get(group)!.length === 3 ? received.get(group)! : undefined));
        assert.deepEqual(files.map((f) => f.sha256).sort(), sent.map((s) => s.sha256).sort());
        assert.ok(files.every((f) => f.group === group));
      }
    } finally {
      await Promise.all(subs.map((s) => s.close()));
      for (const g of groups) await deleteGroup(world.channel, g, domain);
    }
  });

  it('never splits a file between two consumers of one group, and fails over when the active one leaves', async () => {
    const domain = uniq('sac');
    const group = uniq('g');
    // Two processes' worth of receivers: separate connections, same group.
    const peers = [await connectPeer(), await connectPeer()];
    const byPeer: ReceivedFile[][] = [[], []];
    const subs = await Promise.all(
      peers.map((p, i) => p.subscribeToFiles(domain, { group, sink: new MemorySink() }, (f) => void byPeer[i]!.push(f))),
    );
    try {
      const sent: string[] = [];
      // Without single-active-consumer, round-robin delivery would hand each consumer every other
      // chunk, and both would dead-letter chunks of transfers they never saw start.
      await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const data = pseudoRandomBuffer(25 * CHUNK, 100 + i);
          sent.push(sha256Of(data));
          await world.peer.broadcastData(`f${i}.bin`, [data], { domain, chunkSize: CHUNK });
        }),
      );
      await waitFor('6 files', () => byPeer[0]!.length + byPeer[1]!.length === 6);
      const active = byPeer[0]!.length > 0 ? 0 : 1;
      assert.equal(byPeer[1 - active]!.length, 0, 'only the active consumer received');
      assert.deepEqual(byPeer[active]!.map((f) => f.sha256).sort(), [...sent].sort());
      assert.deepEqual(await drainDeadLetters(world.channel, group), []);

      // The active consumer goes away: the broker promotes the other one.
      await subs[active]!.close();
      const data = pseudoRandomBuffer(5 * CHUNK, 999);
      await world.peer.broadcastData('after.bin', [data], { domain, chunkSize: CHUNK });
      const late = await waitFor('fail-over delivery', () => byPeer[1 - active]![0]);
      assert.equal(late.sha256, sha256Of(data));
    } finally {
      await Promise.all(subs.map((s) => s.close()));
      await Promise.all(peers.map((p) => p.close()));
      await deleteGroup(world.channel, group, domain);
    }
  });

  it('calls each domain its own callback, and binds patterns', async () => {
    const base = uniq('dom');
    const group = uniq('g');
    const got = { a: [] as string[], b: [] as string[], star: [] as string[], hash: [] as string[] };
    const subs = [
      await world.peer.subscribeToFiles(`${base}.a`, { group, sink: new MemorySink() }, (f) => void got.a.push(f.domain)),
      await world.peer.subscribeToFiles(`${base}.b`, { group, sink: new MemorySink() }, (f) => void got.b.push(f.domain)),
      await world.peer.subscribeToFiles(`${base}.*`, { group, sink: new MemorySink() }, (f) => void got.star.push(f.domain)),
      await world.peer.subscribeToFiles(`${base}.#`, { group, sink: new MemorySink() }, (f) => void got.hash.push(f.domain)),
    ];
    try {
      for (const d of [`${base}.a`, `${base}.b`, `${base}.a.deep`]) {
        await world.peer.broadcastData('x.txt', [Buffer.from(d)], { domain: d });
      }
      await waitFor('pattern deliveries', () => got.hash.length === 3 && got.star.length === 2);
      await waitFor('domain deliveries', () => got.a.length === 1 && got.b.length === 1);
      assert.deepEqual(got.a, [`${base}.a`]);
      assert.deepEqual(got.b, [`${base}.b`]);
      assert.deepEqual(got.star.sort(), [`${base}.a`, `${base}.b`]);
      assert.deepEqual(got.hash.sort(), [`${base}.a`, `${base}.a.deep`, `${base}.b`]);
    } finally {
      await Promise.all(subs.map((s) => s.close()));
      await deleteGroup(world.channel, group, `${base}.a`, `${base}.b`, `${base}.*`, `${base}.#`);
    }
  });
});
